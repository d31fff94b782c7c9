"""What a stateful route really answers, written into its operation.

A route a provider's handler answers (Epistemix's, or a generic provider's from its model file) is not a
replay of its examples: a create hands out a new id, a read of an id the state lacks is a 404, a write the
state does not allow is a 409, all as problem+json. The routes are found through `StatefulRoutes`, which
the providers' registry is (this package imports no provider: it sees only what it is handed).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from .operations import add_mock_answer

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ID_KEY = re.compile(r"(?i)^(id|uuid|name|.*[_-]?id)$")
_CONFLICTS = "invalid-transition, wrong-state, capacity-reached, already-exists or conflict"


class StatefulBinding(Protocol):
    """A handler bound to a route: its path pattern, and the response fields it works out from state."""

    @property
    def path(self) -> re.Pattern[str]:
        """The route's path pattern; named groups are its path parameters."""
        ...

    @property
    def varies(self) -> tuple[str, ...]:
        """Response fields (rule paths) the handler works out from state rather than echoing the request."""
        ...


class StatefulRoutes(Protocol):
    """Which handler, if any, answers a provider's method and path (the providers' registry)."""

    def binding_for(self, provider: str | None, method: str, path: str) -> StatefulBinding | None:
        """The binding that answers this route of this provider, or None (the examples answer)."""
        ...


def describe_stateful(
    operation: dict[str, Any], method: str, path: str, providers: list[str], bindings: list[StatefulBinding]
) -> None:
    """Say in the operation what its stateful handler answers besides the examples."""
    names = ", ".join(dict.fromkeys(providers))
    lines = [f"**Stateful** ({names}): answered from the mock's stored state, not replayed from the examples."]
    varies = list(dict.fromkeys(field for binding in bindings for field in binding.varies))
    if method == "POST" and not path.endswith("}") and _creates(operation, varies):
        lines.append("Each call creates: the mock hands out a new id (the examples' ids are only examples).")
    if varies:
        lines.append(
            "Worked out from the state, not taken from the example: " + ", ".join(f"`{v}`" for v in varies) + "."
        )
    operation["description"] = "\n\n".join([*lines, operation["description"]])
    add_mock_answer(operation, 400, "invalid-request", "the contract allows the request but the state cannot act on it")
    if "{" in path:
        add_mock_answer(operation, 404, "not-found", "the item the path names is not in the state")
    if method in WRITES:
        add_mock_answer(operation, 409, _CONFLICTS, "the state does not allow the change now")


def _creates(operation: dict[str, Any], varies: list[str]) -> bool:
    if any(_ID_KEY.match(field.rsplit(".", 1)[-1].strip("[]*")) for field in varies):
        return True
    for status, answer in operation["responses"].items():
        if not status.startswith("2"):
            continue
        for media in answer.get("content", {}).values():
            for example in media.get("examples", {}).values():
                value = example.get("value")
                if isinstance(value, dict) and any(_ID_KEY.match(key) for key in value):
                    return True
    return False
