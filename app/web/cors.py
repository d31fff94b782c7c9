"""CORS headers on every answer, whether Flask or the contract front gives it."""

from __future__ import annotations

from werkzeug.datastructures import Headers


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """The Access-Control-Allow-Origin value for a request from `origin`, or None for no CORS headers."""
    if "*" in allowed:
        return "*"
    if origin and origin in allowed:
        return origin
    return None


def add_cors(headers: Headers, allow: str | None) -> None:
    """Set the CORS headers of an answer allowed for ``allow`` (see `allowed_origin`); none when it is None."""
    if allow is None:
        return
    headers["Access-Control-Allow-Origin"] = allow
    if allow != "*":
        # The answer depends on the Origin header: caches must keep one copy per origin.
        headers["Vary"] = "Origin"
