"""Stateful answers in the contract's shape: every key of the interaction's response example is there.

A handler answers with what the domain knows. A consumer's contract may hold keys the domain does not
model (a per-run `url`, say); those come from the example, with its generators applied, so the consumer is
not broken by their absence. Keys the handler gives are never changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def lacks_example_keys(value: Any, example: Any) -> bool:
    """Whether some object in `value` lacks a key its counterpart in `example` has (arrays: by the first item)."""
    # On every stateful answer: set comparisons, and a call only where the example nests further.
    if isinstance(value, dict) and isinstance(example, dict):
        if not example.keys() <= value.keys():
            return True
        return any(
            lacks_example_keys(value[key], item) for key, item in example.items() if isinstance(item, dict | list)
        )
    if isinstance(value, list) and isinstance(example, list) and example and isinstance(example[0], dict | list):
        return any(lacks_example_keys(item, example[0]) for item in value)
    return False


def with_example_keys(value: Any, example: Any) -> Any:
    """`value` with every key it lacks taken from `example`, at any depth; arrays follow the example's first item."""
    if isinstance(value, dict) and isinstance(example, dict):
        shaped = {key: with_example_keys(item, example[key]) if key in example else item for key, item in value.items()}
        for key, item in example.items():
            shaped.setdefault(key, item)
        return shaped
    if isinstance(value, list) and isinstance(example, list) and example:
        return [with_example_keys(item, example[0]) for item in value]
    return value


def shaped(value: Any, example: Any, generated_example: Callable[[], Any]) -> Any:
    """The answer in the example's shape; the example is generated (generators applied) only when a key is missing."""
    if not lacks_example_keys(value, example):
        return value
    return with_example_keys(value, generated_example())
