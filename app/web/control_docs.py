"""The API reference on the control plane (issue 19): the OpenAPI document of the served pacts, and
Swagger UI and ReDoc over it, served by the mock itself (no CDN: users run this offline and in CI).

GET /_mock/openapi.json is the document (app/openapi). /_mock/docs (Swagger UI) and /_mock/redoc (ReDoc)
are always there; /docs and /redoc too where no served pact defines the path (front.py's OWN_PAGES). A
page carries the document inside it, so it needs no second call that an admin token would have to
reach. The assets are the files of two runtime dependencies, flask-swagger-ui (Swagger UI's dist,
Apache-2.0) and flask-openapi3-redoc (ReDoc's standalone bundle, MIT), read from where pip put them;
they are the same public files for every caller, so they are served without the control plane's guard.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from ..openapi import openapi_document
from .problems import problem
from .served import Served

docs_control = Blueprint("docs_control", __name__)
ASSETS_PREFIX = "/_mock/docs/assets/"
# asset name -> (package that ships it, folder inside the package)
ASSETS = {
    "swagger-ui.css": ("flask_swagger_ui", "dist"),
    "swagger-ui-bundle.js": ("flask_swagger_ui", "dist"),
    "favicon-32x32.png": ("flask_swagger_ui", "dist"),
    "redoc.standalone.js": ("flask_openapi3_redoc", "templates/redoc/js"),
}
_DOCUMENT_KEY = "pactmock.openapi"
# One day: the files change only when the packages are upgraded, and then the mock restarts.
_ASSET_MAX_AGE = 86_400

_SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Swagger UI</title>
<link rel="icon" type="image/png" href="{assets}favicon-32x32.png">
<link rel="stylesheet" href="{assets}swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script id="openapi" type="application/json">{document}</script>
<script src="{assets}swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  spec: JSON.parse(document.getElementById("openapi").textContent),
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
"""
_REDOC_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · ReDoc</title>
<link rel="icon" type="image/png" href="{assets}favicon-32x32.png">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<div id="redoc"></div>
<script id="openapi" type="application/json">{document}</script>
<script src="{assets}redoc.standalone.js"></script>
<script>
Redoc.init(JSON.parse(document.getElementById("openapi").textContent), {{}}, document.getElementById("redoc"));
</script>
</body>
</html>
"""


def _served() -> Served:
    served: Served = current_app.extensions["pactmock.served"]
    return served


def document_text() -> str:
    """The served pacts' OpenAPI document as JSON text, made once per worker (the pacts do not change)."""
    cached: str | None = current_app.extensions.get(_DOCUMENT_KEY)
    if cached is None:
        served = _served()
        document = openapi_document(served.contracts.contracts, served.providers)
        cached = current_app.extensions[_DOCUMENT_KEY] = json.dumps(document, ensure_ascii=False)
    return cached


@docs_control.get("/_mock/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of every pact served."""
    return Response(document_text(), mimetype="application/json")


@docs_control.get("/docs")
@docs_control.get("/_mock/docs")
def swagger_ui() -> Response:
    """Swagger UI over the document."""
    return _page(_SWAGGER_PAGE)


@docs_control.get("/redoc")
@docs_control.get("/_mock/redoc")
def redoc() -> Response:
    """ReDoc over the document."""
    return _page(_REDOC_PAGE)


def _page(template: str) -> Response:
    # Inside <script>, "</script>" would end the element early: "<" is written as its JSON escape.
    embedded = document_text().replace("<", "\\u003c").replace("&", "\\u0026")
    html = template.format(title="pactmock", assets=ASSETS_PREFIX, document=embedded)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@docs_control.get(ASSETS_PREFIX + "<name>")
def asset(name: str) -> Response:
    """One file of Swagger UI or ReDoc, from the package that ships it."""
    shipped = ASSETS.get(name)
    if shipped is None:
        return problem("not-found", f"no asset {name[:100]!r}; the assets are {', '.join(sorted(ASSETS))}")
    package, folder = shipped
    root = package_folder(package)
    if root is None:
        return problem("not-found", f"the package {package} that ships {name} is not installed (pip install pactmock)")
    return send_from_directory(root / folder, name, max_age=_ASSET_MAX_AGE)


def package_folder(package: str) -> Path | None:
    """Where an installed package's files are, found without importing it (its import may pull in more)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
