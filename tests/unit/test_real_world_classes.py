"""The defect classes real pact files showed (issue 12), each on a minimal pact: what the engine decides.

What the reference stub (`pact stub`, pact-stub-server 0.7.1) does in each case was checked by running it;
the comments say so where pactmock follows it and where it deliberately does not.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest

from app.contract.match.compare import compare_request
from app.contract.match.regexes import contract_regex, regex_problem
from app.contract.model import MISSING, Body, Request
from app.contract.read.loader import parse_pact
from app.contract.serve.router import Router
from app.web.dispatch import default_content_type, to_flask

PNG = b"\x89PNG\r\n\x1a\n\x00\x01\xff"


def pact(*interactions: dict[str, Any], version: str = "3.0.0") -> dict[str, Any]:
    return {
        "consumer": {"name": "web"},
        "provider": {"name": "api"},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": version}},
    }


def http(description: str, request: dict[str, Any], response: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "request": request, "response": response or {"status": 200}}


def router_of(*interactions: dict[str, Any], version: str = "3.0.0") -> Router:
    contract, _ = parse_pact(pact(*interactions, version=version), "test.json")
    return Router(contract.interactions)


def routed(router: Router, path: str, method: str = "GET", **headers: str) -> str | None:
    result = router.route(Request(method, path, {}, {k: [v] for k, v in headers.items()}, Body(MISSING)))
    return result.interaction.description if result.interaction else None


# --- 1. Percent-encoded paths -----------------------------------------------------------------------------------------
def test_an_encoded_pact_path_matches_the_request_encoded_or_decoded() -> None:
    router = router_of(http("a pacticipant", {"method": "GET", "path": "/pacticipants/Pricing%20Service"}))
    # The verifier sends %20; the WSGI server decodes it; dispatch re-encodes what a URI cannot carry.
    assert routed(router, "/pacticipants/Pricing%20Service") == "a pacticipant"
    assert routed(router, "/pacticipants/Pricing Service") == "a pacticipant"
    assert routed(router, "/pacticipants/Pricing%2520Service") is None
    assert routed(router, "/pacticipants/Pricing%20service") is None


def test_a_pact_path_written_decoded_matches_what_the_verifier_sends() -> None:
    # The verifier encodes "/things/a b" as "/things/a%20b"; the reference stub answers that 404 (its own bug).
    router = router_of(
        http("spaced", {"method": "GET", "path": "/things/a b"}),
        http("accented", {"method": "GET", "path": "/v/café"}),
    )
    assert routed(router, "/things/a%20b") == "spaced"
    assert routed(router, "/v/caf%C3%A9") == "accented"


@pytest.mark.parametrize("regex", [r"/rx/Pricing%20\w+", r"/rx/Pricing \w+"])
def test_a_path_regex_matches_the_path_as_sent_or_decoded(regex: str) -> None:
    request = {
        "method": "GET",
        "path": "/rx/Pricing%20Service",
        "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": regex}]}},
    }
    router = router_of(http("by regex", request))
    assert routed(router, "/rx/Pricing%20Service") == "by regex"
    assert routed(router, "/rx/Pricing%20Service/more") is None
    assert not compare_request(request, {"method": "GET", "path": "/rx/Pricing%20Billing"}, "V3")


def test_the_path_mismatch_still_names_both_paths() -> None:
    mismatches = compare_request({"path": "/a%20b"}, {"path": "/a%20c"}, "V3")
    assert [m.message for m in mismatches] == ["path: expected path /a%20b but got /a%20c"]


# --- 3. Content-Type when the pact gives none -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"a": 1}, "application/json"),
        ([1, 2], "application/json"),
        (12, "application/json"),
        ("text here", "text/plain"),
        ("<a>1</a>", "application/xml"),
        ('<?xml version="1.0"?><a/>', "application/xml"),
        ("  <a/>", "application/xml"),
        ("<html><body>x</body></html>", "text/html"),
        ('{"a": 1}', "application/json"),
        ('"quoted"', "application/json"),
    ],
)
def test_a_body_without_a_content_type_is_served_as_the_reference_serves_it(body: Any, content_type: str) -> None:
    contract, _ = parse_pact(pact(http("it", {"method": "GET", "path": "/"}, {"status": 200, "body": body})), "t")
    response = to_flask(contract.interactions[0].response)
    assert response.headers["Content-Type"] == content_type


def test_an_empty_or_null_body_goes_out_without_a_content_type() -> None:
    for body in (None, ""):
        contract, _ = parse_pact(pact(http("it", {"method": "GET", "path": "/"}, {"status": 200, "body": body})), "t")
        assert "Content-Type" not in to_flask(contract.interactions[0].response).headers


def test_text_a_json_content_type_cannot_parse_goes_out_as_a_json_string() -> None:
    response = {"status": 200, "headers": {"Content-Type": "application/json"}, "body": "plain"}
    contract, _ = parse_pact(pact(http("it", {"method": "GET", "path": "/"}, response), version="2.0.0"), "t")
    assert to_flask(contract.interactions[0].response).get_data() == b'"plain"'


def test_detection_of_text_needs_the_start_not_the_whole_body() -> None:
    assert default_content_type("[ unterminated") == "application/json"
    assert default_content_type("plain words, then <b>") == "text/plain"


# --- 4. Binary bodies stored as base64 --------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2.0.0", "3.0.0"])
@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", "multipart/form-data; boundary=x"])
def test_a_base64_body_of_a_binary_type_is_served_as_its_bytes(version: str, content_type: str) -> None:
    response = {"status": 200, "headers": {"Content-Type": content_type}, "body": base64.b64encode(PNG).decode()}
    contract, _ = parse_pact(pact(http("it", {"method": "GET", "path": "/"}, response), version=version), "t")
    flask_response = to_flask(contract.interactions[0].response)
    assert flask_response.get_data() == PNG
    assert flask_response.headers["Content-Type"] == content_type


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_base64_looking_text_of_a_text_type_stays_text(content_type: str) -> None:
    response = {"status": 200, "headers": {"Content-Type": content_type}, "body": "aGVsbG8="}
    contract, _ = parse_pact(pact(http("it", {"method": "GET", "path": "/"}, response)), "t")
    assert to_flask(contract.interactions[0].response).get_data() == b"aGVsbG8="


def test_a_binary_request_is_compared_as_bytes() -> None:
    headers = {"Content-Type": "application/octet-stream"}
    expected = {"method": "PUT", "path": "/up", "headers": headers, "body": base64.b64encode(PNG).decode()}
    router = router_of(http("upload", expected))
    sent = Request("PUT", "/up", {}, {"Content-Type": ["application/octet-stream"]}, Body(PNG, headers["Content-Type"]))
    assert router.route(sent).interaction is not None
    other = Request("PUT", "/up", {}, {"Content-Type": ["application/octet-stream"]}, Body(b"\xff\xfe", None))
    result = router.route(other)
    assert result.interaction is None
    assert [m.message for m in result.mismatches] == ["body: expected 11 bytes of content but got 2 different bytes"]


def test_a_binary_body_that_is_not_base64_is_compared_as_its_text_bytes_never_as_utf8() -> None:
    expected = {"method": "PUT", "path": "/up", "headers": {"Content-Type": "image/jpeg"}, "body": "not base64!"}
    router = router_of(http("upload", expected))
    result = router.route(Request("PUT", "/up", {}, {"Content-Type": ["image/jpeg"]}, Body(b"\xff\xd8\xff", None)))
    assert result.interaction is None
    assert all("UTF-8" not in m.message for m in result.mismatches)


# --- 10. Regexes matched in linear time -------------------------------------------------------------------------------
def test_a_catastrophic_pattern_answers_at_once() -> None:
    # With a backtracking engine this takes about 2**60 steps: the thread would never finish.
    rules = {"query": {"q": {"matchers": [{"match": "regex", "regex": r"^(\w+\s?)*$"}]}}}
    expected = {"method": "GET", "path": "/d", "query": {"q": ["aaa"]}, "matchingRules": rules}
    answers: list[list[str]] = []
    worker = threading.Thread(
        target=lambda: answers.append(
            [
                m.message
                for m in compare_request(
                    expected, {"method": "GET", "path": "/d", "query": {"q": ["a" * 60 + "!"]}}, "V3"
                )
            ]
        ),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    assert answers and len(answers[0]) == 1 and "expected a value matching" in answers[0][0]


def test_unicode_classes_keep_the_reference_meaning() -> None:
    assert contract_regex(r"\w+").fullmatch("café")
    assert contract_regex(r"\d").fullmatch("١")
    assert contract_regex(r"[\w-]+").fullmatch("a-é")
    assert not contract_regex(r"\S+").fullmatch("a b")
    assert contract_regex(r"a\Z").fullmatch("a")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(?=x)x", "lookaround"), (r"(x)\1", "backreference"), (r"a*+", "possessive"), (r"(", "invalid")],
)
def test_a_pattern_that_cannot_run_in_linear_time_is_refused_with_the_reason(pattern: str, reason: str) -> None:
    problem = regex_problem(pattern)
    assert problem is not None and reason in problem


def test_a_refused_regex_makes_its_interaction_unmatchable_and_says_why() -> None:
    rules = {"header": {"X-Id": {"matchers": [{"match": "regex", "regex": r"(\d)\1"}]}}}
    expected = {"method": "GET", "path": "/", "headers": {"X-Id": "11"}, "matchingRules": rules}
    mismatches = compare_request(expected, {"method": "GET", "path": "/", "headers": {"X-Id": "11"}}, "V3")
    assert len(mismatches) == 1 and "backreference" in mismatches[0].message


def test_a_refused_regex_is_named_at_load_time_and_the_rest_of_the_file_serves() -> None:
    rules = {"query": {"q": {"matchers": [{"match": "regex", "regex": r"(?=x)x"}]}}}
    contract, warnings = parse_pact(
        pact(
            http("lookahead", {"method": "GET", "path": "/a", "query": {"q": ["x"]}, "matchingRules": rules}),
            http("plain", {"method": "GET", "path": "/b"}),
        ),
        "t.json",
    )
    assert [w for w in warnings if "lookaround" in w] == [
        "t.json: interaction 0 ('lookahead'): regex '(?=x)x' is refused: it uses lookaround that RE2, the "
        "linear-time engine pactmock matches with, does not support (invalid perl operator: (?=)"
    ]
    assert routed(Router(contract.interactions), "/b") == "plain"


# --- 5. Generators on form and XML bodies -----------------------------------------------------------------------------
def generated(response: dict[str, Any]) -> Any:
    from app.contract.serve.generators import GeneratorContext, apply_generators

    contract, _ = parse_pact(pact(http("it", {"method": "GET", "path": "/"}, response)), "t")
    return apply_generators(contract.interactions[0].response, GeneratorContext(seed=5)).body.value


def test_form_fields_from_generators_are_generated() -> None:
    body = generated(
        {
            "status": 200,
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": "id=1&name=bob&tag=a&tag=b",
            "generators": {
                "body": {"$.id": {"type": "RandomInt", "min": 100, "max": 999}, "$.tag[1]": {"type": "Uuid"}}
            },
        }
    )
    fields = dict(part.split("=") for part in body.split("&")[:2])
    assert 100 <= int(fields["id"]) <= 999 and fields["name"] == "bob"
    tags = [part.split("=")[1] for part in body.split("&") if part.startswith("tag=")]
    assert tags[0] == "a" and len(tags[1]) == 36


def test_xml_attributes_and_text_from_generators_are_generated() -> None:
    body = generated(
        {
            "status": 200,
            "headers": {"Content-Type": "application/xml"},
            "body": '<?xml version="1.0"?><root xmlns="urn:x" id="1"><item>old</item><item>old</item><n:o xmlns:n="urn:n">o</n:o></root>',
            "generators": {
                "body": {
                    "$.root['@id']": {"type": "RandomInt", "min": 100, "max": 999},
                    "$.root.item['#text']": {"type": "RandomString", "size": 6},
                    "$.root['n:o']['#text']": {"type": "RandomBoolean"},
                }
            },
        }
    )
    from app.contract.match.xmlbody import parse_xml

    root = parse_xml(body)
    assert body.startswith('<?xml version="1.0"?>') and 100 <= int(root.attrib["id"]) <= 999
    items = [child.text or "" for child in root if child.tag == "{urn:x}item"]
    assert len(items) == 2 and all(len(text) == 6 and text != "old" for text in items)
    assert root.find("{urn:n}o") is not None and root.find("{urn:n}o").text in ("true", "false")  # type: ignore[union-attr]
    assert "n:o" in body  # the contract's prefix kept


def test_a_generator_path_that_stops_at_an_element_changes_nothing_as_in_the_reference() -> None:
    response = {
        "status": 200,
        "headers": {"Content-Type": "application/xml"},
        "body": "<root><item>old</item></root>",
        "generators": {"body": {"$.root.item": {"type": "RandomString"}}},
    }
    assert generated(response) == "<root><item>old</item></root>"


# --- 6. Duplicate interactions ----------------------------------------------------------------------------------------
def test_identical_duplicates_are_one_interaction_with_one_warning() -> None:
    same = http("get it", {"method": "GET", "path": "/a"}, {"status": 200, "body": {"a": 1}})
    contract, warnings = parse_pact(
        pact(same, dict(same), dict(same), http("other", {"method": "GET", "path": "/b"})), "t"
    )
    assert [i.description for i in contract.interactions] == ["get it", "other"]
    assert [w for w in warnings if "get it" in w] == [
        "t: 3 interactions described 'get it' with the same provider states (none) are identical: served once"
    ]


def test_conflicting_duplicates_are_a_warning_and_the_file_serves() -> None:
    first = http("get it", {"method": "GET", "path": "/a"}, {"status": 200, "body": {"a": 1}})
    second = http("get it", {"method": "GET", "path": "/b"}, {"status": 200, "body": {"a": 2}})
    contract, warnings = parse_pact(pact(first, second), "t")
    assert len(contract.interactions) == 2
    assert any("differ (interactions 0, 1)" in w for w in warnings)
    router = Router(contract.interactions)
    assert routed(router, "/a") == "get it" and routed(router, "/b") == "get it"


# --- 8. arrayContains / eachValue on query parameters ------------------------------------------------------------------
def query_router() -> Router:
    contains = {
        "match": "arrayContains",
        "variants": [{"index": 0, "rules": {"$": {"matchers": [{"match": "regex", "regex": r"\d+"}]}}}, {"index": 1}],
    }
    each = {"match": "eachValue", "rules": [{"match": "regex", "regex": r"\d+"}], "value": ["1"]}
    return router_of(
        http(
            "contains",
            {
                "method": "GET",
                "path": "/c",
                "query": {"id": ["1", "2"]},
                "matchingRules": {"query": {"id": {"matchers": [contains]}}},
            },
        ),
        http(
            "each",
            {
                "method": "GET",
                "path": "/e",
                "query": {"id": ["1", "2"]},
                "matchingRules": {"query": {"id": {"matchers": [each]}}},
            },
        ),
        version="4.0",
    )


@pytest.mark.parametrize(
    ("path", "values", "served"),
    # As the reference stub answers each of these.
    [
        ("/c", ["1", "2"], True),
        ("/c", ["2", "7"], True),
        ("/c", ["9", "2", "5"], True),
        ("/c", ["x", "2"], True),
        ("/c", ["9"], False),
        ("/e", ["5"], True),
        ("/e", ["5", "6", "7"], True),
        ("/e", ["5", "x"], False),
    ],
)
def test_list_matchers_on_a_query_parameter_hold_its_list_of_values(path: str, values: list[str], served: bool) -> None:
    result = query_router().route(Request("GET", path, {"id": values}, {}, Body(MISSING)))
    assert (result.interaction is not None) is served, [m.message for m in result.mismatches]


def test_a_query_list_mismatch_names_the_value() -> None:
    result = query_router().route(Request("GET", "/e", {"id": ["5", "x"]}, {}, Body(MISSING)))
    assert [m.message for m in result.mismatches] == [
        "query parameter 'id': $[1]: expected a value matching /\\d+/ but got string \"x\""
    ]


# --- 9. Content negotiation -------------------------------------------------------------------------------------------
def test_the_candidate_whose_accept_header_matches_answers() -> None:
    router = router_of(
        http("json", {"method": "GET", "path": "/r"}, {"status": 200, "body": {"a": 1}}),
        http(
            "xml",
            {"method": "GET", "path": "/r", "headers": {"Accept": "application/xml"}},
            {"status": 200, "body": "<a/>"},
        ),
        http("json2", {"method": "GET", "path": "/s", "headers": {"Accept": "application/json"}}),
        http("xml2", {"method": "GET", "path": "/s", "headers": {"Accept": "application/xml"}}),
    )
    assert routed(router, "/r", Accept="application/xml") == "xml"
    assert routed(router, "/r", Accept="application/json") == "json"
    assert routed(router, "/r") == "json"
    assert routed(router, "/s", Accept="application/xml") == "xml2"
    assert routed(router, "/s", Accept="application/json") == "json2"


@pytest.mark.parametrize("lazily", [None, 1])
def test_duplicates_are_handled_alike_in_files_compiled_on_first_use(tmp_path: Any, lazily: int | None) -> None:
    import json

    from app.contract.read.loader import load_pacts

    same = http("get it", {"method": "GET", "path": "/a"}, {"status": 200, "body": {"a": 1}})
    differing = http("other", {"method": "GET", "path": "/b"})
    path = tmp_path / "dups.json"
    path.write_text(json.dumps(pact(same, dict(same), differing, http("other", {"method": "GET", "path": "/c"}))))
    loaded = load_pacts(path, compile_lazily_from=lazily)
    assert not loaded.problems
    assert [(i.description, i.path) for i in loaded.interactions] == [
        ("get it", "/a"),
        ("other", "/b"),
        ("other", "/c"),
    ]
    assert len(loaded.warnings) == 2
