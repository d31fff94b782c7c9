"""Interactions of a lazily compiled pact whose matching rules are written alike share one normalised copy
(read/index.py); each interaction is still judged by its own rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.contract.match.compare import match_request
from app.contract.model import Body, Request
from app.contract.read.loader import load_pacts

RULES = {"body": {"$.n": {"matchers": [{"match": "integer"}]}}}
TEXT_RULES = {"body": {"$.n": {"matchers": [{"match": "regex", "regex": "^[a-z]+$"}]}}}


def _interaction(index: int, rules: Any) -> dict[str, Any]:
    return {
        "type": "Synchronous/HTTP",
        "description": f"put {index}",
        "request": {
            "method": "PUT",
            "path": f"/n/{index}",
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": {"n": 1 if rules is RULES else "abc"}, "contentType": "application/json"},
            "matchingRules": rules,
        },
        "response": {
            "status": 204,
            "matchingRules": {"status": {"matchers": [{"match": "statusCode", "status": "success"}]}},
        },
    }


def _judged(interaction: Any, value: Any) -> list[str]:
    actual = Request(
        method="PUT",
        path=interaction.path,
        headers={"Content-Type": ["application/json"]},
        body=Body(json.dumps({"n": value}).encode(), "application/json"),
    )
    return [m.path for m in match_request(interaction.request, actual)]


def test_alike_rules_are_shared_and_each_interaction_keeps_its_own(tmp_path: Path) -> None:
    interactions = [_interaction(0, RULES), _interaction(1, TEXT_RULES), _interaction(2, RULES)]
    pact = {
        "consumer": {"name": "c"},
        "provider": {"name": "p"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    (tmp_path / "p.json").write_text(json.dumps(pact))
    first, text, last = load_pacts(tmp_path, compile_lazily_from=1).interactions
    assert first.request.rules is last.request.rules, "written alike: normalised once"
    assert _judged(first, 7) == [] and _judged(last, 7) == []
    assert _judged(first, "abc") == ["$.n"] and _judged(last, "abc") == ["$.n"]
    assert _judged(text, "abc") == [] and _judged(text, 7) == ["$.n"]
    assert first.response.rules["status"][""].matchers[0]["match"] == "statusCode"
