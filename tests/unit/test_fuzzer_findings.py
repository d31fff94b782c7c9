"""What the differential fuzzer found pactmock deciding otherwise than the reference, each on a minimal pact.

Every verdict here was checked against `pact stub` (pact-stub-server 0.7.1) on the same pact and request.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.contract.model import MISSING, Body, Request
from app.contract.read.loader import parse_pact
from app.contract.serve.router import Router

JSON = {"Content-Type": ["application/json"]}


def router_of(request: dict[str, Any], version: str = "3.0.0") -> Router:
    interaction: dict[str, Any] = {"description": "it", "request": request, "response": {"status": 200}}
    if version.startswith("4"):
        interaction["type"] = "Synchronous/HTTP"
    pact = {
        "consumer": {"name": "web"},
        "provider": {"name": "api"},
        "interactions": [interaction],
        "metadata": {"pactSpecification": {"version": version}},
    }
    contract, _ = parse_pact(pact, "test.json")
    return Router(contract.interactions)


def served(
    router: Router, method: str, path: str, query: dict[str, list[str]] | None = None, body: Any = MISSING
) -> bool:
    data = MISSING if body is MISSING else json.dumps(body).encode()
    headers = JSON if body is not MISSING else {}
    result = router.route(Request(method, path, query or {}, headers, Body(data, "application/json")))
    return result.interaction is not None


def body_rule(path: str, matcher: dict[str, Any]) -> dict[str, Any]:
    return {"body": {path: {"matchers": [matcher]}}}


# --- a boolean matcher on a JSON string example ------------------------------------------------------------------------
def test_a_boolean_matcher_takes_its_own_string_example_and_the_other_boolean_text() -> None:
    router = router_of(
        {
            "method": "POST",
            "path": "/n",
            "headers": {"Content-Type": "application/json"},
            "body": {"n": "false"},
            "matchingRules": body_rule("$.n", {"match": "boolean"}),
        }
    )
    assert served(router, "POST", "/n", body={"n": "false"})
    assert served(router, "POST", "/n", body={"n": "true"})
    assert served(router, "POST", "/n", body={"n": True})
    assert not served(router, "POST", "/n", body={"n": "yes"})
    assert not served(router, "POST", "/n", body={"n": "False"})


# --- eachKey holds the keys, not the values ----------------------------------------------------------------------------
def each_key_router(extra_rules: dict[str, Any] | None = None) -> Router:
    rules = {
        "$.tags": {"matchers": [{"match": "eachKey", "rules": [{"match": "regex", "regex": "^[a-z]+$"}]}]},
        **(extra_rules or {}),
    }
    return router_of(
        {
            "method": "POST",
            "path": "/k",
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": {"tags": {"a": "x"}}, "contentType": "application/json", "encoded": False},
            "matchingRules": {"body": rules},
        },
        version="4.0",
    )


def test_each_key_leaves_the_values_free() -> None:
    router = each_key_router()
    assert served(router, "POST", "/k", body={"tags": {"a": "x", "b": "y"}})
    assert served(router, "POST", "/k", body={"tags": {"a": 1, "zz": {"c": None}}})
    assert served(router, "POST", "/k", body={"tags": {}})
    assert not served(router, "POST", "/k", body={"tags": {"a": "x", "Zz 9": "y"}})


def test_each_key_leaves_a_rule_at_a_values_own_path_in_force() -> None:
    router = each_key_router({"$.tags.a": {"matchers": [{"match": "regex", "regex": "^x+$"}]}})
    assert served(router, "POST", "/k", body={"tags": {"a": "xxx", "b": 7}})
    assert not served(router, "POST", "/k", body={"tags": {"a": "y"}})


# --- equality on a query parameter compares its list of values ---------------------------------------------------------
@pytest.mark.parametrize(
    ("example", "sent", "answer"),
    [(["a"], ["a"], True), (["a"], ["a", "a"], False), (["a", "a"], ["a"], False), (["a", "a"], ["a", "a"], True)],
)
def test_equality_on_a_query_parameter_compares_the_whole_list(
    example: list[str], sent: list[str], answer: bool
) -> None:
    router = router_of(
        {
            "method": "GET",
            "path": "/r",
            "query": {"r": example},
            "matchingRules": {"query": {"r": {"matchers": [{"match": "equality"}]}}},
        }
    )
    assert served(router, "GET", "/r", {"r": sent}) is answer


def test_other_query_matchers_judge_each_value() -> None:
    router = router_of(
        {
            "method": "GET",
            "path": "/r",
            "query": {"r": ["a"]},
            "matchingRules": {"query": {"r": {"matchers": [{"match": "include", "value": "a"}]}}},
        }
    )
    assert served(router, "GET", "/r", {"r": ["a", "ba"]})
    assert not served(router, "GET", "/r", {"r": ["a", "b"]})


# --- dates the calendar lacks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "value", "answer"),
    [
        ("yyyy-MM-dd", "2000-02-30", False),
        ("yyyy-MM-dd", "2000-02-29", True),
        ("yyyy-MM-dd", "2001-02-29", False),
        ("dd/MM/yyyy", "31/04/2000", False),
        ("dd/MM/yy", "29/02/01", False),
        ("yyyy-MM-dd HH:mm:ss", "2000-02-30 10:00:00", False),
        ("dd-MM", "29-02", True),
    ],
)
def test_a_date_matcher_refuses_a_day_the_month_lacks(pattern: str, value: str, answer: bool) -> None:
    router = router_of(
        {
            "method": "GET",
            "path": "/d",
            "query": {"d": ["x"]},
            "matchingRules": {"query": {"d": {"matchers": [{"match": "date", "date": pattern}]}}},
        }
    )
    assert served(router, "GET", "/d", {"d": [value]}) is answer


# --- numbers written as text ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("integer", ["0", "007", "+3", "18446744073709551615"], ["-3", "3 ", "1.5", "18446744073709551616", ""]),
        ("decimal", ["1.5", "386", "1e3", "-.5", "3.", "+3", "NaN", "inf"], ["abc", "1_000", "1e", " 3", "1,5"]),
        ("number", ["386", "-1e3", "Infinity"], ["-", "1.5.5", "0x1F"]),
    ],
)
def test_numbers_in_a_query_are_read_as_the_reference_reads_them(kind: str, good: list[str], bad: list[str]) -> None:
    router = router_of(
        {
            "method": "GET",
            "path": "/q",
            "query": {"x": ["1"]},
            "matchingRules": {"query": {"x": {"matchers": [{"match": kind}]}}},
        }
    )
    assert [v for v in good if not served(router, "GET", "/q", {"x": [v]})] == []
    assert [v for v in bad if served(router, "GET", "/q", {"x": [v]})] == []


# --- a path regex that spells out percent-escapes ------------------------------------------------------------------------
def test_a_path_regex_written_with_escapes_matches_the_path_the_server_decoded() -> None:
    router = router_of(
        {
            "method": "GET",
            "path": "/a/b%2Fc%40d/7",
            "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": r"^/a/b%2Fc%40d/\d+$"}]}},
        }
    )
    # The server hands pactmock "/a/b/c@d/7" for "/a/b%2Fc%40d/7": "/" and "@" need no escape on the wire.
    assert served(router, "GET", "/a/b/c@d/7")
    assert served(router, "GET", "/a/b%2Fc%40d/123")
    assert not served(router, "GET", "/a/b/c@d/x")
    assert not served(router, "GET", "/a/b/c/d/7")
