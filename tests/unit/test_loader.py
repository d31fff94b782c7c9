"""Reading pact files of every version into the model, rejecting unusable ones, and routing."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from app.contract.match.compare import match_request
from app.contract.model import MISSING, Body, Contract, Interaction, Request
from app.contract.read.loader import load_pact_file, load_pacts, parse_pact
from app.contract.read.normalize import ContractError
from app.contract.serve.router import Router

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def pact(interactions: list[Any] | None = None, version: str | None = "3.0.0", **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"consumer": {"name": "web"}, "provider": {"name": "api"}}
    if interactions is not None:
        document["interactions"] = interactions
    if version is not None:
        document["metadata"] = {"pactSpecification": {"version": version}}
    document.update(extra)
    return document


def interaction(description: str = "get a thing", path: str = "/things/1", **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "request": {"method": "GET", "path": path},
        "response": {"status": 200},
        **extra,
    }


def write(directory: Path, name: str, document: Any) -> Path:
    path = directory / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def parsed(document: dict[str, Any]) -> Contract:
    contract, _ = parse_pact(document, "test.json")
    return contract


def get(path: str, **parts: Any) -> Request:
    return Request(method=parts.pop("method", "GET"), path=path, **parts)


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------


def test_v1_provider_state_and_query_string() -> None:
    document = pact(
        [
            interaction(
                "one", providerState="a thing exists", request={"method": "get", "path": "/t", "query": "a=1&b=2&a=3"}
            ),
            interaction("two", provider_state="nothing exists"),
        ],
        version=None,
        metadata={"pactSpecificationVersion": "1.0.0"},
    )
    contract = parsed(document)
    first, second = contract.interactions
    assert contract.spec == "V1"
    assert first.state_names == ("a thing exists",)
    assert second.state_names == ("nothing exists",)
    assert first.request.method == "GET"
    assert first.request.query == {"a": ["1", "3"], "b": ["2"]}


def test_v1_1_is_recognised() -> None:
    document = pact([interaction()], version=None, metadata={"pact-specification": {"version": "1.1.0"}})
    assert parsed(document).spec == "V1.1"


def test_file_without_version_is_read_as_v2() -> None:
    assert parsed(pact([interaction()], version=None)).spec == "V2"


def test_v2_flat_rules_land_in_their_categories() -> None:
    request = {
        "method": "GET",
        "path": "/things/1",
        "query": "page=1",
        "headers": {"Accept": "application/json"},
        "matchingRules": {
            "$.path": {"regex": r"/things/\d+"},
            "$.query.page": {"regex": r"\d+"},
            "$.headers.Accept": {"regex": "application/.*"},
            "$.body.id": {"match": "type"},
        },
    }
    contract = parsed(pact([interaction(request=request)], version="2.0.0"))
    rules = contract.interactions[0].request.rules
    assert contract.spec == "V2"
    assert set(rules) == {"path", "query", "header", "body"}
    assert rules["path"][""].matchers[0] == {"match": "regex", "regex": r"/things/\d+"}
    assert rules["query"]["page"].matchers[0]["match"] == "regex"
    assert rules["header"]["Accept"].matchers[0]["match"] == "regex"
    assert rules["body"]["$.id"].matchers[0]["match"] == "type"


def test_v2_flat_rules_take_effect() -> None:
    request = {
        "method": "GET",
        "path": "/things/1",
        "query": "page=1",
        "matchingRules": {"$.path": {"regex": r"/things/\d+"}, "$.query.page": {"regex": r"\d+"}},
    }
    expected = parsed(pact([interaction(request=request)], version="2.0.0")).interactions[0].request
    assert match_request(expected, get("/things/77", query={"page": ["9"]})) == []
    mismatches = match_request(expected, get("/things/x", query={"page": ["z"]}))
    assert sorted(m.part for m in mismatches) == ["path", "query"]


def test_v3_provider_states_with_params() -> None:
    states = [{"name": "a thing exists", "params": {"id": 1}}, {"name": "user is admin"}]
    contract = parsed(pact([interaction(providerStates=states)]))
    found = contract.interactions[0].provider_states
    assert [(s.name, s.params) for s in found] == [("a thing exists", {"id": 1}), ("user is admin", {})]


@pytest.mark.parametrize("params", ["oops", 7, [1, 2]])
def test_provider_state_params_that_are_not_an_object_reject_the_file_with_the_reason(tmp_path, params) -> None:
    states = [{"name": "a thing exists", "params": params}]
    write(tmp_path, "bad.json", pact([interaction(providerStates=states)]))
    write(tmp_path, "good.json", pact([interaction("another")]))
    result = load_pacts(tmp_path)
    assert [contract.source.endswith("good.json") for contract in result.contracts] == [True]
    (problem,) = result.problems
    assert "'a thing exists' has params that are not a JSON object" in problem.reason, problem


def test_v3_categorized_rules() -> None:
    request = {
        "method": "POST",
        "path": "/things",
        "headers": {"Content-Type": "application/json"},
        "body": {"id": 1},
        "matchingRules": {
            "body": {"$.id": {"matchers": [{"match": "integer"}], "combine": "AND"}},
            "header": {"X-Trace": {"matchers": [{"match": "regex", "regex": "[a-f0-9]+"}]}},
            "query": {"q": {"matchers": [{"match": "type"}]}},
        },
    }
    rules = parsed(pact([interaction(request=request)])).interactions[0].request.rules
    assert rules["body"]["$.id"].matchers == ({"match": "integer"},)
    assert rules["header"]["X-Trace"].matchers[0]["regex"] == "[a-f0-9]+"
    assert rules["query"]["q"].matchers == ({"match": "type"},)


def test_v3_messages_are_listed_not_served() -> None:
    message = {"description": "thing created", "providerStates": [{"name": "a thing"}], "contents": {"id": 1}}
    contract = parsed(pact(None, messages=[message]))
    assert contract.interactions == []
    assert [(m.description, m.kind, [s.name for s in m.provider_states]) for m in contract.messages] == [
        ("thing created", "Asynchronous/Messages", ["a thing"])
    ]


def v4_http(description: str = "get a png", **extra: Any) -> dict[str, Any]:
    return {
        "type": "Synchronous/HTTP",
        "key": "abc123",
        "description": description,
        "request": {"method": "GET", "path": "/image", "headers": {"Accept": ["image/png", "image/*"]}},
        "response": {
            "status": 200,
            "headers": {"Content-Type": ["image/png"]},
            "body": {
                "content": base64.b64encode(PNG).decode("ascii"),
                "contentType": "image/png",
                "encoded": "base64",
            },
        },
        **extra,
    }


def test_v4_http_interaction_with_base64_body_and_header_lists() -> None:
    contract = parsed(pact([v4_http()], version="4.0"))
    (found,) = contract.interactions
    assert contract.spec == "V4"
    assert found.kind == "Synchronous/HTTP"
    assert found.request.headers == {"Accept": ["image/png", "image/*"]}
    assert found.response.body == Body(PNG, "image/png")


def test_v4_json_body_content_is_the_value() -> None:
    response = {
        "status": 201,
        "body": {"content": {"id": 7}, "contentType": "application/json", "encoded": False},
    }
    contract = parsed(pact([v4_http(response=response)], version="4.0"))
    assert contract.interactions[0].response.body == Body({"id": 7}, "application/json")


def test_v4_base64_json_body_is_decoded_and_parsed() -> None:
    content = base64.b64encode(b'{"id": 7}').decode("ascii")
    response = {"status": 201, "body": {"content": content, "contentType": "application/json", "encoded": "base64"}}
    contract = parsed(pact([v4_http(response=response)], version="4.0"))
    assert contract.interactions[0].response.body.value == {"id": 7}


def test_v4_invalid_base64_is_a_contract_error_naming_the_interaction() -> None:
    response = {"status": 200, "body": {"content": "not base64!!", "contentType": "image/png", "encoded": "base64"}}
    with pytest.raises(ContractError, match=r"interaction 0 \('get a png'\).*base64"):
        parse_pact(pact([v4_http(response=response)], version="4.0"), "x.json")


def test_v4_empty_body_object_is_no_body() -> None:
    response = {"status": 204, "body": {}}
    contract = parsed(pact([v4_http(response=response)], version="4.0"))
    assert contract.interactions[0].response.body.value is MISSING


def test_v4_pending_flag_is_kept() -> None:
    contract = parsed(pact([v4_http("pending one", pending=True), v4_http("settled one")], version="4.0"))
    assert [(i.description, i.pending) for i in contract.interactions] == [
        ("pending one", True),
        ("settled one", False),
    ]


@pytest.mark.parametrize("kind", ["Asynchronous/Messages", "Synchronous/Messages"])
def test_v4_message_interactions_are_listed_not_served(kind: str) -> None:
    message = {"type": kind, "description": "an event", "contents": {"content": {"id": 1}}}
    contract = parsed(pact([v4_http(), message], version="4.0"))
    assert [i.description for i in contract.interactions] == ["get a png"]
    assert [(m.description, m.kind) for m in contract.messages] == [("an event", kind)]


def test_v4_unknown_interaction_type_is_listed_with_a_warning() -> None:
    plugin = {"type": "Synchronous/Plugin", "description": "grpc call"}
    contract, warnings = parse_pact(pact([v4_http(), plugin], version="4.0"), "x.json")
    assert [m.description for m in contract.messages] == ["grpc call"]
    assert any("Synchronous/Plugin" in w and "grpc call" in w for w in warnings)


# ---------------------------------------------------------------------------
# Unknown fields
# ---------------------------------------------------------------------------


def test_unknown_fields_are_warned_about_once_each_and_ignored() -> None:
    document = pact(
        [
            interaction("one", flavour="vanilla", request={"method": "GET", "path": "/a", "cookies": "x"}),
            interaction("two", flavour="chocolate", colour="red"),
        ],
        extension={"x": 1},
    )
    contract, warnings = parse_pact(document, "file.json")
    assert [i.description for i in contract.interactions] == ["one", "two"]
    assert len(warnings) == 4, warnings
    for name in ("extension", "flavour", "colour", "cookies"):
        assert sum(f"'{name}'" in w for w in warnings) == 1, (name, warnings)
    assert all(w.startswith("file.json: ") for w in warnings)


def test_unknown_field_warning_says_where_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.contract.read.loader"):
        _, warnings = parse_pact(pact([interaction("one", flavour="x")]), "file.json")
    assert warnings == ["file.json: unknown field 'flavour' in interaction 0 ('one') ignored"]
    assert warnings[0] in caplog.text


def test_known_v4_fields_are_not_warned_about() -> None:
    _, warnings = parse_pact(pact([v4_http(comments={"text": ["hi"]}, pending=False)], version="4.0"), "x.json")
    assert warnings == []


def test_load_pacts_collects_warnings(tmp_path: Path) -> None:
    write(tmp_path, "a.json", pact([interaction(flavour="x")]))
    result = load_pacts(tmp_path)
    assert result.problems == []
    assert len(result.warnings) == 1 and "flavour" in result.warnings[0] and "a.json" in result.warnings[0]


# ---------------------------------------------------------------------------
# Rejections: every one names the file and the reason
# ---------------------------------------------------------------------------


def rejected(tmp_path: Path, document: Any) -> str:
    path = write(tmp_path, "bad.json", document)
    result = load_pacts(path)
    assert result.contracts == []
    (problem,) = result.problems
    assert problem.source == str(path)
    assert str(path) in str(problem)
    return problem.reason


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    reason = rejected(tmp_path, '{\n  "consumer": {"name": "web"},\n  "provider" {"name": "api"}\n}')
    assert "not valid JSON" in reason
    assert "line 3 column 14" in reason


def test_load_pact_file_raises_for_bad_json(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", "[1,")
    with pytest.raises(ContractError, match=r"line 1 column 4"):
        load_pact_file(path)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    assert "top level is not a JSON object" in rejected(tmp_path, [pact([interaction()])])


def test_interactions_array_is_required(tmp_path: Path) -> None:
    assert "no 'interactions' array" in rejected(tmp_path, pact(None))


def test_interactions_must_be_an_array(tmp_path: Path) -> None:
    document = pact(None)
    document["interactions"] = {"a": 1}
    assert "'interactions' is not an array" in rejected(tmp_path, document)


@pytest.mark.parametrize("part", ["request", "response"])
def test_http_interaction_needs_request_and_response(tmp_path: Path, part: str) -> None:
    broken = interaction("no part")
    del broken[part]
    reason = rejected(tmp_path, pact([interaction(), broken]))
    assert reason == f"interaction 1 ('no part') has no {part}"


def test_consumer_name_is_required(tmp_path: Path) -> None:
    document = pact([interaction()])
    del document["consumer"]
    assert "no consumer name" in rejected(tmp_path, document)


def test_conflicting_duplicates_with_the_same_states_are_kept_with_a_warning() -> None:
    document = pact(
        [
            interaction("get it", providerStates=[{"name": "a"}, {"name": "b"}]),
            interaction("get it", path="/other", providerStates=[{"name": "b"}, {"name": "a"}]),
        ]
    )
    contract, warnings = parse_pact(document, "t")
    assert [i.path for i in contract.interactions] == ["/things/1", "/other"]
    assert any("'get it'" in w and "differ" in w for w in warnings), warnings


def test_conflicting_duplicates_without_states_are_kept_with_a_warning() -> None:
    contract, warnings = parse_pact(pact([interaction("get it"), interaction("get it", path="/other")]), "t")
    assert len(contract.interactions) == 2
    assert any("'get it'" in w and "differ" in w for w in warnings), warnings


def test_same_description_with_different_states_is_fine() -> None:
    document = pact(
        [
            interaction("get it", providerStates=[{"name": "it exists"}]),
            interaction("get it", providerStates=[{"name": "it is gone"}]),
            interaction("get it"),
        ]
    )
    assert len(parsed(document).interactions) == 3


def test_broken_file_beside_a_good_one(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", pact([interaction("served")]))
    broken = write(tmp_path, "broken.json", "{not json")
    result = load_pacts(tmp_path)
    assert [c.source for c in result.contracts] == [str(good)]
    assert [i.description for i in result.interactions] == ["served"]
    assert [p.source for p in result.problems] == [str(broken)]
    assert "not valid JSON" in result.problems[0].reason


def test_directory_is_searched_recursively_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.json", pact([interaction("from b")], consumer={"name": "b"}))
    write(tmp_path, "a.json", pact([interaction("from a")], consumer={"name": "a"}))
    write(tmp_path, "notes.txt", "not a pact")
    result = load_pacts(tmp_path)
    assert result.problems == []
    assert [c.consumer for c in result.contracts] == ["a", "b"]


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = load_pacts(missing)
    assert result.contracts == []
    assert [(p.source, p.reason) for p in result.problems] == [(str(missing), "no such file or directory")]


def test_interactions_know_their_contract(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", pact([interaction()]))
    (contract,) = load_pacts(path).contracts
    assert contract.interactions[0].contract is contract
    assert (contract.consumer, contract.provider, contract.source) == ("web", "api", str(path))


# ---------------------------------------------------------------------------
# Router
# ---------------------------------------------------------------------------


def router_for(*interactions: dict[str, Any], version: str = "3.0.0") -> tuple[Router, list[Interaction]]:
    contract = parsed(pact(list(interactions), version=version))
    return Router(contract.interactions), contract.interactions


def http(description: str, method: str, path: str, **request: Any) -> dict[str, Any]:
    states = request.pop("states", None)
    raw = {
        "description": description,
        "request": {"method": method, "path": path, **request},
        "response": {"status": 200},
    }
    if states:
        raw["providerStates"] = [{"name": name} for name in states]
    return raw


def path_regex(regex: str) -> dict[str, Any]:
    return {"path": {"matchers": [{"match": "regex", "regex": regex}]}}


def test_literal_path_lookup() -> None:
    router, (one, two, _) = router_for(
        http("one", "GET", "/things/1"), http("two", "GET", "/things/2"), http("post", "POST", "/things/1")
    )
    assert router.candidates("GET", "/things/1") == [one]
    assert router.route(get("/things/2")).interaction is two
    assert router.candidates("GET", "/things/3") == []


def test_regex_paths_are_found_through_their_bucket() -> None:
    router, (by_id, anywhere) = router_for(
        http("by id", "GET", "/things/1", matchingRules=path_regex(r"^/things/\d+$")),
        http("anywhere", "GET", "/x/report", matchingRules=path_regex(r".*/report")),
    )
    assert router.candidates("GET", "/things/42") == [by_id]
    assert router.candidates("GET", "/things/abc") == []
    assert router.candidates("GET", "/deep/down/report") == [anywhere]
    assert router.route(get("/things/9")).interaction is by_id


def test_literal_and_regex_paths_are_both_candidates() -> None:
    router, (literal, patterned) = router_for(
        http("literal", "GET", "/things/1"),
        http("patterned", "GET", "/things/2", matchingRules=path_regex(r"/things/\d+")),
    )
    assert router.candidates("GET", "/things/1") == [literal, patterned]


def test_regex_path_with_alternation_is_found_for_every_branch() -> None:
    router, (either,) = router_for(
        http("either", "GET", "/things/1", matchingRules=path_regex(r"/things/\d+|/legacy/\d+"))
    )
    assert router.candidates("GET", "/things/5") == [either]
    assert router.candidates("GET", "/legacy/5") == [either]


@pytest.mark.parametrize("method", ["GET", "get", "Get"])
def test_method_is_case_insensitive(method: str) -> None:
    router, (found,) = router_for(http("lower in file", "get", "/things"))
    assert router.candidates(method, "/things") == [found]
    assert router.route(get("/things", method=method)).interaction is found


def test_provider_state_decides_between_two_full_matches() -> None:
    router, (plain, exists) = router_for(
        http("plain", "GET", "/things/1"), http("exists", "GET", "/things/1", states=["thing 1 exists"])
    )
    assert router.route(get("/things/1")).interaction is plain
    assert router.route(get("/things/1"), frozenset({"thing 1 exists"})).interaction is exists


def test_provider_state_needs_all_its_states_active() -> None:
    router, (plain, both) = router_for(
        http("plain", "GET", "/things/1"), http("both", "GET", "/things/1", states=["a", "b"])
    )
    assert router.route(get("/things/1"), frozenset({"a"})).interaction is plain
    assert router.route(get("/things/1"), frozenset({"a", "b"})).interaction is both


def test_near_miss_names_the_closest_interaction_and_its_mismatches() -> None:
    body_rules = {"body": {"$.name": {"matchers": [{"match": "type"}]}}}
    json_header = {"Content-Type": "application/json"}
    router, (close, _far) = router_for(
        http("close", "POST", "/things", headers=json_header, body={"name": "x", "size": 1}, matchingRules=body_rules),
        http("far", "POST", "/things", headers={"X-Key": "k", **json_header}, body={"kind": "y"}),
    )
    actual = Request(
        method="POST",
        path="/things",
        headers={"Content-Type": ["application/json"]},
        body=Body({"name": "anything", "size": 2}, "application/json"),
    )
    result = router.route(actual)
    assert result.interaction is None
    assert result.closest is close
    (mismatch,) = result.mismatches
    assert (mismatch.part, mismatch.path) == ("body", "$.size")
    assert "1" in mismatch.message and "2" in mismatch.message


def test_unknown_method_on_a_known_path_suggests_that_path_first() -> None:
    router, (get_it, post_it, _) = router_for(
        http("get", "GET", "/things"), http("post", "POST", "/things"), http("other", "DELETE", "/thing")
    )
    result = router.route(get("/things", method="DELETE"))
    assert result.interaction is None and result.closest is None
    assert result.suggestions[:2] == [get_it, post_it]


def test_unknown_path_suggests_similar_paths_same_method_first() -> None:
    router, (post_it, get_it, far) = router_for(
        http("post", "POST", "/things/1"), http("get", "GET", "/things/1"), http("far", "GET", "/zebra/crossing")
    )
    suggestions = router.route(get("/thing/1")).suggestions
    assert suggestions[:2] == [get_it, post_it]
    assert far not in suggestions[:2]


def test_route_picks_the_interaction_whose_headers_match() -> None:
    router, (as_json, as_html, as_xml) = router_for(
        http("json", "GET", "/doc", headers={"Accept": "application/json"}),
        http("html", "GET", "/doc", headers={"Accept": "text/html"}),
        http("xml", "GET", "/doc", headers={"Accept": "application/xml"}),
    )
    assert router.route(get("/doc", headers={"accept": ["text/html"]})).interaction is as_html
    assert router.route(get("/doc", headers={"Accept": ["application/xml"]})).interaction is as_xml
    assert router.route(get("/doc", headers={"Accept": ["application/json"]})).interaction is as_json
