"""What every dashboard page shares: its blueprint, the served state, links that keep the admin token, and
rendering.

The dashboard (/_mock/ui, issue 19) is server-rendered HTML over the same functions the JSON control plane
calls. The guard (control.guard_control_plane) protects it like every /_mock/ call. With MOCK_ADMIN_TOKEN set,
a browser on another host opens `/_mock/ui/?token=<token>` once: every link and form of the dashboard then
carries the token in its URL's query (the guard reads `?token=`), so the pages stay usable without a header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for

from ..domain.clock import MockClock
from .served import Served

# Templates under app/web/templates/ui/, static files under app/web/static/ui/ (public: the guard lets
# /_mock/ui/assets/ through, they hold nothing of the mock's).
ui_control = Blueprint(
    "ui",
    __name__,
    template_folder="templates",
    static_folder="static/ui",
    static_url_path="/_mock/ui/assets",
)

PAGES = (
    ("ui.overview", "Contracts"),
    ("ui.journal", "Journal"),
    ("ui.data", "Data"),
    ("ui.controls", "Controls"),
)
# Pages under another one in the navigation.
SECTIONS = {
    "ui.journal_record": "ui.journal",
    "ui.jobs": "ui.data",
    "ui.runs": "ui.data",
    "ui.uploads": "ui.data",
    "ui.collection_items": "ui.data",
}


def served() -> Served:
    """What this worker serves."""
    found: Served = current_app.extensions["pactmock.served"]
    return found


def mock_clock() -> MockClock:
    """The mock's clock (the one the control plane freezes and moves)."""
    clock: MockClock = current_app.extensions["pactmock.clock"]
    return clock


def carried_token() -> str | None:
    """The admin token this page was opened with, to be carried on to the next page; None when none is needed."""
    if served().settings.admin_token is None:
        return None
    return request.args.get("token") or None


def link(endpoint: str, **values: Any) -> str:
    """The URL of a dashboard page (or form action) that keeps the admin token, when the page was given one."""
    token = carried_token()
    kept = {name: value for name, value in values.items() if value is not None}
    if token is not None:
        kept["token"] = token
    return url_for(endpoint, **kept)


def page_link(**changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one): pagination and filters."""
    query = {name: value for name, value in request.args.items()}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = str(value)
    return request.path + ("?" + urlencode(query) if query else "")


def render(template: str, status: int = 200, **context: Any) -> Response:
    """A dashboard page: the template with the navigation and the clock every page shows."""
    clock = mock_clock()
    html = render_template(
        template,
        nav_pages=PAGES,
        link=link,
        page_link=page_link,
        token=carried_token(),
        clock=clock.setting().as_json(clock.system()),
        said=request.args.get("said"),
        current=SECTIONS.get(request.endpoint or "", request.endpoint),
        **context,
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    # The pages show the mock's data as it is now: never from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response
