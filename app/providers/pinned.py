"""Where a pact and the stateful mock will disagree: response fields the contract pins to a literal that a
provider's handler works out from state.

A consumer's pact may fix, with no matcher, a value the mock varies: a V2 pact whose example upload URL is
`http://localhost:5556/pre-signed-url`, or whose run is `DONE`. The verifier then reports a mismatch on the
stateful answer although the mock is right. Each such field is listed before that happens, with the matcher
that would say what the consumer means, or the provider can be served in replay mode (its examples, no state).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..contract.match.rulepaths import format_location, select_rule
from ..contract.model import Interaction
from .registry import Registry

INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class PinnedField:
    """A response field the contract fixes to a literal and the provider's handler answers from state."""

    interaction: Interaction
    path: str  # a rule path, indices written [*]
    example: Any

    def sentence(self) -> str:
        """What the verifier will report, and what the consumer could write instead."""
        contract = self.interaction.contract
        who = f"{contract.consumer} -> {contract.provider}: " if contract else ""
        return (
            f"{who}{self.interaction.description!r} pins {self.path} to {self.example!r}, which the stateful "
            f"{contract.provider if contract else ''} mock works out from its data: the verifier will report "
            f"'{self.path}' as a mismatch whenever they differ. The consumer can say what it means with "
            f"{_suggestion(self.example)}, or serve the provider in replay mode (PACTMOCK_REPLAY_PROVIDERS)."
        )


def pinned_fields(interactions: Sequence[Interaction], registry: Registry) -> list[PinnedField]:
    """Every response field, of an interaction a handler answers, that is pinned and that the handler varies."""
    found = []
    for interaction in interactions:
        contract = interaction.contract
        provider = contract.provider if contract else None
        binding = registry.binding_for(provider, interaction.method, interaction.path)
        if binding is None or not binding.varies:
            continue
        response = interaction.response
        ruleset = response.rules.get("body")
        for location, value in _leaves((), response.body.value):
            path = INDEX.sub("[*]", format_location(location))
            if not any(_within(path, varied) for varied in binding.varies):
                continue
            choice = select_rule(ruleset, location)
            if choice is None or choice.only_equality:
                found.append(PinnedField(interaction, path, value))
    return found


def _within(path: str, varied: str) -> bool:
    return path == varied or path.startswith((varied + ".", varied + "["))


def _leaves(location: tuple[str | int, ...], value: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict | list) and not value:
        yield location, value  # an empty container is pinned as a whole
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves((*location, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves((*location, index), item)
    else:
        yield location, value


def _suggestion(example: Any) -> str:
    if isinstance(example, bool):
        return "a type matcher (match.bool)"
    if isinstance(example, int):
        return "an integer matcher (match.int)"
    if isinstance(example, float):
        return "a number matcher (match.number)"
    if isinstance(example, str) and re.match(r"https?://", example):
        return "a regex matcher on the URL's shape (match.regex(..., regex=r'^https?://.*/...$'))"
    return "a type or regex matcher (match.str / match.regex)"
