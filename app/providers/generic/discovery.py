"""Which providers are generic and stateful: those with a model file beside a pact, and those the settings
name for inference. Every other provider stays a stub."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ...contract.model import Interaction
from ...contract.read.loader import LoadResult
from ...resources.infer import example_item, example_rules, infer_model
from ...resources.model import ResourceModel
from ...resources.modelfile import model_file_for, read_model_file
from ...settings import Settings
from ..registry import Registry
from .routes import EngineCell, bindings_of, state_handler_of

log = logging.getLogger(__name__)


def generic_models(settings: Settings, contracts: LoadResult, coded: frozenset[str]) -> list[ResourceModel]:
    """A model per generic provider; `coded` providers (Epistemix) keep their own handlers.

    A model file that does not read raises ModelFileError: the server must not start on it.
    """
    models: dict[str, ResourceModel] = {}
    for contract in contracts.contracts:
        provider = contract.provider
        if provider in coded or provider in models:
            continue
        model_file = model_file_for(Path(contract.source))
        if model_file.is_file():
            models[provider] = _completed(read_model_file(model_file, provider), contracts)
            log.info("provider %s is stateful: %s", provider, model_file)
        elif "*" in settings.infer_state or provider in settings.infer_state:
            models[provider] = infer_model(
                provider, _interactions(contracts, provider), f"inferred from {contract.source}"
            )
            log.info("provider %s is stateful: inferred from its pact", provider)
    return list(models.values())


def _interactions(contracts: LoadResult, provider: str) -> list[Interaction]:
    return [i for contract in contracts.contracts if contract.provider == provider for i in contract.interactions]


def _completed(declared: ResourceModel, contracts: LoadResult) -> ResourceModel:
    """The declared model, each collection given what the pact shows of its items: an example item and the
    matchers of its fields (a generated item's values must satisfy them)."""
    interactions = _interactions(contracts, declared.provider)
    collections = {}
    for name, collection in declared.collections.items():
        example = collection.example or example_item(collection, interactions)
        rules = collection.rules or example_rules(replace(collection, example=example), interactions)
        collections[name] = replace(collection, example=example, rules=rules)
    return replace(declared, collections=collections)


def generic_registry(settings: Settings, contracts: LoadResult, coded: frozenset[str]) -> Registry:
    """The bindings and provider states of every generic provider."""
    models = [m for m in generic_models(settings, contracts, coded) if m.provider not in settings.replay_providers]
    cells = {model.provider: EngineCell(model) for model in models}
    bindings = [binding for cell in cells.values() for binding in bindings_of(cell)]
    states = [(provider, state_handler_of(cell)) for provider, cell in cells.items()]
    return Registry(bindings, states, {provider: cell.get for provider, cell in cells.items()})
