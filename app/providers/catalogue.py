"""Every stateful provider this mock has, registered in one place; the settings may replay some instead."""

from __future__ import annotations

from ..contract.read.loader import LoadResult
from ..settings import Settings
from . import epistemix
from .generic.discovery import generic_registry
from .registry import Registry


def registry_for(settings: Settings, contracts: LoadResult | None = None) -> Registry:
    """The bindings of every provider, less those the settings serve in replay mode.

    Epistemix has handlers of its own; a provider with a model file beside its pact (or named for
    inference) is served by the generic engine; `contracts` are the pacts served (none: Epistemix only).
    """
    coded = Registry(epistemix.BINDINGS).without(settings.replay_providers)
    if contracts is None:
        return coded
    return coded.joined(generic_registry(settings, contracts, frozenset(epistemix.PROVIDERS)))
