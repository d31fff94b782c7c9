"""A V3 pact of one collection, listed in an envelope and read by id: the shape the generated-collection
tests, the seed tests and the dashboard's browser tests serve beside a model file of their own."""

from __future__ import annotations

from typing import Any

Rules = dict[str, Any]


def regex(pattern: str) -> Rules:
    """A matcher rule of one regex."""
    return {"matchers": [{"match": "regex", "regex": pattern}]}


def kind(match: str) -> Rules:
    """A matcher rule of one kind (type, integer, ...)."""
    return {"matchers": [{"match": match}]}


def collection_pact(
    provider: str,
    *,
    path: str,
    envelope: str,
    item: dict[str, Any],
    item_rules: dict[str, Rules],
    query: dict[str, tuple[str, Rules]],
    extra: dict[str, tuple[Any, Rules]],
    read_path: str,
    read_regex: str,
) -> dict[str, Any]:
    """Consumer UI's pact with `provider`: GET `path` (with `query`: name -> (example, rule)) answers
    `{envelope: [item], **extra}` (extra: member -> (example, rule)); GET `read_path` (matched by `read_regex`)
    answers the item. The item's fields carry `item_rules` in both."""
    listing = {
        "description": f"a page of {envelope}",
        "request": {
            "method": "GET",
            "path": path,
            "query": {name: [example] for name, (example, _) in query.items()},
            "matchingRules": {"query": {name: rule for name, (_, rule) in query.items()}},
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": {envelope: [item], **{name: example for name, (example, _) in extra.items()}},
            "matchingRules": {
                "body": {
                    f"$.{envelope}": {"matchers": [{"match": "type", "min": 0}]},
                    **{f"$.{envelope}[*].{name}": rule for name, rule in item_rules.items()},
                    **{f"$.{name}": rule for name, (_, rule) in extra.items()},
                }
            },
        },
    }
    read = {
        "description": f"one of {envelope}",
        "request": {"method": "GET", "path": read_path, "matchingRules": {"path": regex(read_regex)}},
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": item,
            "matchingRules": {"body": {f"$.{name}": rule for name, rule in item_rules.items()}},
        },
    }
    return {
        "consumer": {"name": "UI"},
        "provider": {"name": provider},
        "interactions": [listing, read],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
