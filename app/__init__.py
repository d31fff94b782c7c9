"""pactmock: a contract-first Pact provider mock."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from .settings import Settings

from .version import __version__

__all__ = ["__version__", "create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask application factory (imported lazily so `app.contract` stays framework-free)."""
    from .web.factory import build_app

    return build_app(settings)
