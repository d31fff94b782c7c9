"""Every stateful provider this mock has, registered in one place; the settings may replay some instead."""

from __future__ import annotations

from ..settings import Settings
from . import epistemix
from .registry import Registry


def registry_for(settings: Settings) -> Registry:
    """The bindings of every provider, less those the settings serve in replay mode."""
    return Registry(epistemix.BINDINGS).without(settings.replay_providers)
