"""Values injected by provider states (issue 12, class 7): what the engine accepts, routes and binds.

The pact-jvm example the issue names: a provider state `name` = `John`, an example path `/api/hello/James`
and a path generator `/api/hello/${name}`. The verifier sends `/api/hello/John`; the reference stub, which
knows only the example, answers 404 (docs/conformance.md). The real server and verifier are in
tests/integration/test_provider_state_injection.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.contract.model import MISSING, Body, Interaction, Request
from app.contract.read.loader import load_pacts, parse_pact
from app.contract.serve.generators import GeneratorContext, apply_generators
from app.contract.serve.router import Router


def from_state(expression: str) -> dict[str, str]:
    return {"type": "ProviderState", "expression": expression}


def hello(path: str = "/api/hello/James", expression: str = "/api/hello/${name}") -> dict[str, Any]:
    return {
        "description": "Hello John",
        "providerStates": [{"name": "User exists", "params": {"name": "John"}}],
        "request": {"method": "GET", "path": path, "generators": {"path": from_state(expression)}},
        "response": {
            "status": 200,
            "body": {"name": "James"},
            "generators": {"body": {"$.name": from_state("${name}")}},
        },
    }


def pact(*interactions: dict[str, Any]) -> dict[str, Any]:
    return {
        "consumer": {"name": "web"},
        "provider": {"name": "api"},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def router_of(*interactions: dict[str, Any]) -> Router:
    contract, _ = parse_pact(pact(*interactions), "test.json")
    return Router(contract.interactions)


def get(path: str, query: dict[str, list[str]] | None = None, **headers: str) -> Request:
    return Request("GET", path, query or {}, {k.replace("_", "-"): [v] for k, v in headers.items()}, Body(MISSING))


def routed(router: Router, request: Request) -> Interaction | None:
    return router.route(request).interaction


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("/api/hello/James", True),  # the example, as before
        ("/api/hello/John", True),  # what the verifier sends once the state said John
        ("/api/hello/Mary%20Ann", True),
        ("/api/hello/", False),  # a placeholder holds at least one character
        ("/api/hello/Mary/Ann", False),  # ... and no "/"
        ("/api/hello", False),
        ("/api/bye/John", False),  # the literal text must be there
    ],
)
def test_a_path_a_provider_state_writes_takes_any_value_in_its_placeholders(path: str, found: bool) -> None:
    assert (routed(router_of(hello()), get(path)) is not None) is found


def test_a_literal_path_beside_it_still_wins_its_own_route() -> None:
    other = {"description": "the admin", "request": {"method": "GET", "path": "/api/hello/admin"}, "response": {}}
    router = router_of(hello(), other)
    # Both match; the one that needs no provider state wins while none is active (router preference).
    found = routed(router, get("/api/hello/admin"))
    assert found is not None and found.description == "the admin"
    chosen = routed(router, get("/api/hello/John"))
    assert chosen is not None and chosen.description == "Hello John"


def test_the_router_knows_how_deep_such_a_path_goes() -> None:
    router = router_of(hello(path="/a", expression="/a/${x}/b/${y}"))
    assert routed(router, get("/a/1/b/2")) is not None
    assert router.too_deep("/a/1/b/2") is None
    assert router.too_deep("/a/1/b/2/c") is not None


def test_a_large_pact_compiled_on_first_use_routes_the_injected_path(tmp_path: Path) -> None:
    fillers = [
        {"description": f"filler {n}", "request": {"method": "GET", "path": f"/f/{n}"}, "response": {}}
        for n in range(3)
    ]
    (tmp_path / "big.json").write_text(json.dumps(pact(*fillers, hello())))
    loaded = load_pacts(tmp_path, compile_lazily_from=1)
    router = Router(loaded.contracts[0].interactions)
    found = routed(router, get("/api/hello/John"))
    assert found is not None and found.description == "Hello John"


def test_the_values_a_request_carries_override_the_states_parameters_in_the_answer() -> None:
    interaction = routed(router_of(hello()), get("/api/hello/Mary%20Ann"))
    assert interaction is not None and interaction.request.injected is not None
    bound = interaction.request.injected.bind(get("/api/hello/Mary%20Ann"))
    assert bound == {"name": "Mary Ann"}
    params = {**interaction.provider_states[0].params, **bound}
    answer = apply_generators(interaction.response, GeneratorContext(provider_state_params=params))
    assert answer.body.value == {"name": "Mary Ann"}


def test_query_and_header_values_take_any_text_around_the_literal() -> None:
    interaction = {
        "description": "search",
        "request": {
            "method": "GET",
            "path": "/search",
            "query": {"q": ["id-1"]},
            "headers": {"X-Account": "acct 1"},
            "generators": {"query": {"q": from_state("id-${id}")}, "header": {"X-Account": from_state("acct ${acct}")}},
        },
        "response": {},
    }
    router = router_of(interaction)
    assert routed(router, get("/search", {"q": ["id-1"]}, X_Account="acct 1")) is not None
    assert routed(router, get("/search", {"q": ["id-42"]}, X_Account="acct 9 9")) is not None
    assert routed(router, get("/search", {"q": ["x-42"]}, X_Account="acct 1")) is None
    assert routed(router, get("/search", {"q": ["id-42"]}, X_Account="user 1")) is None
    assert routed(router, get("/search", {}, X_Account="acct 1")) is None  # still required
    found = routed(router, get("/search", {"q": ["id-42"]}, X_Account="acct 9"))
    assert found is not None and found.request.injected is not None
    assert found.request.injected.bind(get("/search", {"q": ["id-42"]}, X_Account="acct 9")) == {
        "id": "42",
        "acct": "9",
    }


def test_a_body_field_takes_what_the_verifier_may_send_besides_what_its_rule_allows() -> None:
    interaction = {
        "description": "create",
        "request": {
            "method": "POST",
            "path": "/users",
            "headers": {"Content-Type": "application/json"},
            "body": {"id": None, "n": 1, "ref": "a", "code": "x-1"},
            "matchingRules": {"body": {"$.id": {"matchers": [{"match": "integer"}]}}},
            "generators": {
                "body": {
                    "$.id": from_state("${id}") | {"dataType": "INTEGER"},
                    "n": from_state("n") | {"dataType": "STRING"},
                    "$.ref": from_state("${ref}"),
                    "$.code": from_state("x-${code}"),
                }
            },
        },
        "response": {},
    }
    router = router_of(interaction)

    def post(**changes: Any) -> bool:
        body = {"id": 42, "n": 1, "ref": "a", "code": "x-1", **changes}
        data = json.dumps(body).encode()
        request = Request("POST", "/users", {}, {"Content-Type": ["application/json"]}, Body(data, "application/json"))
        return routed(router, request) is not None

    assert post()
    assert post(id=None)  # the example's own kind (the pact-php example's null), besides the rule's integer
    assert not post(id="42")  # converted to an INTEGER, it is a number
    assert post(n="7") and post(n=8) and not post(n=True)  # text by its dataType, or the example's number
    # A lone placeholder without a dataType: the state's value as it is, whatever its kind.
    assert post(ref=42) and post(ref={"a": 1}) and post(ref=None)
    assert post(code="x-42") and not post(code=42)  # an expression with text around it writes text
