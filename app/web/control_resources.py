"""Generic providers on the control plane: what each holds, and the volume of a generated collection,
changed at run time for every worker without a restart.

    GET /_mock/resources                                    every declared provider, its collections and counts
    PUT /_mock/resources/<provider>/<collection>            {"count": 250000} or {"preset": "HIGH"}
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from ..domain.errors import Invalid
from ..resources.model import MAX_GENERATED, PRESETS
from .control import json_body
from .problems import problem
from .served import Served

resources_control = Blueprint("resources_control", __name__)


def _served() -> Served:
    served: Served = current_app.extensions["pactmock.served"]
    return served


@resources_control.get("/_mock/resources")
def list_resources() -> Response:
    """Each generic provider: where its model comes from and, per collection, stored or generated and how many."""
    served = _served()
    now = served.clock()
    providers = []
    for provider, engine_of in sorted(served.providers.engines.items()):
        engine = engine_of(served.store)
        collections = []
        for name, collection in engine.model.collections.items():
            entry: dict[str, Any] = {"name": name, "path": collection.path, "item": collection.item}
            if collection.generated is not None:
                entry.update(kind="generated", count=engine.count(name, now))
            else:
                entry.update(kind="stored", count=engine.stored_count(name, now))
            collections.append(entry)
        providers.append({"provider": provider, "model": engine.model.source, "collections": collections})
    return jsonify({"providers": providers, "presets": PRESETS, "largest": MAX_GENERATED})


@resources_control.put("/_mock/resources/<provider>/<collection>")
def set_volume(provider: str, collection: str) -> Response:
    """Set a generated collection's count, by number or by preset."""
    served = _served()
    engine_of = served.providers.engines.get(provider)
    if engine_of is None:
        known = ", ".join(sorted(served.providers.engines)) or "none"
        return problem(
            "not-found", f"no generic provider {provider!r}; the declared ones are {known}", resource="provider"
        )
    engine = engine_of(served.store)
    if collection not in engine.model.collections:
        known = ", ".join(engine.model.collections)
        return problem(
            "not-found", f"{provider} has no collection {collection!r}; it has {known}", resource="collection"
        )
    payload: Any = json_body()
    try:
        count = _count(payload)
        now = served.clock()
        engine.set_count(collection, count, now)
    except Invalid as error:
        return problem("invalid-request", str(error))
    return jsonify({"provider": provider, "collection": collection, "count": engine.count(collection, now)})


def _count(payload: Any) -> int:
    if not isinstance(payload, dict) or ("count" in payload) == ("preset" in payload):
        raise Invalid('send {"count": N} (1 to 10,000,000) or {"preset": "LOW" | "DEFAULT" | "HIGH"}')
    if "preset" in payload:
        preset = payload["preset"]
        if not isinstance(preset, str) or preset.upper() not in PRESETS:
            raise Invalid(f"preset must be one of {', '.join(PRESETS)}, not {preset!r}")
        return PRESETS[preset.upper()]
    count = payload["count"]
    if isinstance(count, bool) or not isinstance(count, int):
        raise Invalid(f'"count" must be a whole number, not {count!r}')
    return count
