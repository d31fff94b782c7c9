"""compare_request / compare_response: every mismatch, with its part, path and sentence."""

from __future__ import annotations

from app.contract import compare_request, compare_response

RUN_REQUEST = {
    "method": "POST",
    "path": "/runs",
    "headers": {"Content-Type": "application/json", "fredcli-version": "1.2.3"},
    "body": {"runRequests": [{"jobId": 123, "size": "hot", "fredArgs": [{"flag": "-p", "value": "main.fred"}]}]},
    "matchingRules": {
        "body": {
            "$.runRequests": {"matchers": [{"match": "type", "min": 1}]},
            "$.runRequests[*].jobId": {"matchers": [{"match": "integer"}]},
        },
        "header": {"fredcli-version": {"matchers": [{"match": "regex", "regex": r"\d+\.\d+\.\d+"}]}},
    },
}


def actual_run(body: object, **headers: str) -> dict:
    return {
        "method": "POST",
        "path": "/runs",
        "headers": {"content-type": "application/json", "FREDCLI-VERSION": "2.0.1", **headers},
        "body": body,
    }


def test_a_conforming_run_request_matches_with_other_values_and_more_items() -> None:
    body = {
        "runRequests": [
            {"jobId": 9, "size": "cold", "fredArgs": [{"flag": "-n", "value": "x"}]},
            {"jobId": 10, "size": "hot", "fredArgs": []},
        ]
    }
    assert compare_request(RUN_REQUEST, actual_run(body), "V3") == []


def test_every_mismatch_is_listed_with_its_body_path() -> None:
    body = {"runRequests": [{"jobId": "abc", "fredArgs": [{"flag": 1, "value": "v"}], "extra": True}]}
    mismatches = compare_request(RUN_REQUEST, actual_run(body), "V3")
    by_path = {m.path: m for m in mismatches}
    assert set(by_path) == {
        "$.runRequests[0].jobId",
        "$.runRequests[0].size",
        "$.runRequests[0].fredArgs[0].flag",
        "$.runRequests[0].extra",
    }
    assert all(m.part == "body" for m in mismatches)
    assert 'expected an integer but got string "abc"' in by_path["$.runRequests[0].jobId"].message
    assert "missing" in by_path["$.runRequests[0].size"].message
    assert "unexpected key 'extra'" in by_path["$.runRequests[0].extra"].message


def test_empty_array_fails_min_one() -> None:
    mismatches = compare_request(RUN_REQUEST, actual_run({"runRequests": []}), "V3")
    assert [(m.path, m.message) for m in mismatches] == [
        ("$.runRequests", "$.runRequests: expected at least 1 item(s) but got 0")
    ]


def test_header_rule_and_missing_header_are_named() -> None:
    actual = actual_run(RUN_REQUEST["body"])
    actual["headers"] = {"Content-Type": "application/json"}
    [missing] = compare_request(RUN_REQUEST, actual, "V3")
    assert (missing.part, missing.path) == ("header", "fredcli-version")
    assert "missing" in missing.message
    actual["headers"]["fredcli-version"] = "latest"
    [wrong] = compare_request(RUN_REQUEST, actual, "V3")
    assert "latest" in wrong.message and "fredcli-version" in wrong.message


def test_malformed_json_body_is_one_mismatch_with_line_and_column() -> None:
    actual = actual_run('{"runRequests": [')
    [mismatch] = compare_request(RUN_REQUEST, actual, "V3")
    assert mismatch.part == "body"
    assert "not valid JSON" in mismatch.message and "line 1 column" in mismatch.message


def test_non_json_content_type_for_a_json_contract_is_refused() -> None:
    actual = actual_run("jobId=1")
    actual["headers"]["content-type"] = "application/x-www-form-urlencoded"
    mismatches = compare_request(RUN_REQUEST, actual, "V3")
    assert any(m.part == "header" and m.path == "Content-Type" for m in mismatches)
    assert any(m.part == "body" and "expected a JSON body" in m.message for m in mismatches)


def test_null_is_not_missing() -> None:
    expected = {"method": "POST", "path": "/", "body": {"a": None}}
    assert compare_request(expected, {"method": "POST", "path": "/", "body": {"a": None}}, "V3") == []
    [m] = compare_request(expected, {"method": "POST", "path": "/", "body": {}}, "V3")
    assert m.path == "$.a" and "missing" in m.message


def test_responses_may_carry_extra_keys_but_requests_may_not() -> None:
    expected = {"status": 200, "body": {"id": 1}}
    assert compare_response(expected, {"status": 200, "body": {"id": 1, "more": 2}}, "V3") == []
    request = {"method": "POST", "path": "/", "body": {"id": 1}}
    [m] = compare_request(request, {"method": "POST", "path": "/", "body": {"id": 1, "more": 2}}, "V3")
    assert m.path == "$.more"


def test_each_like_nested_inside_each_like() -> None:
    expected = {
        "status": 200,
        "body": {"runs": [{"id": 1, "tags": [{"name": "a"}]}]},
        "matchingRules": {
            "body": {
                "$.runs": {"matchers": [{"match": "type", "min": 1}]},
                "$.runs[*].tags": {"matchers": [{"match": "type", "min": 1}]},
            }
        },
    }
    good = {
        "status": 200,
        "body": {"runs": [{"id": 7, "tags": [{"name": "x"}, {"name": "y"}]}, {"id": 8, "tags": [{"name": "z"}]}]},
    }
    assert compare_response(expected, good, "V3") == []
    bad = {"status": 200, "body": {"runs": [{"id": 7, "tags": []}, {"id": "8", "tags": [{"name": 3}]}]}}
    paths = sorted(m.path for m in compare_response(expected, bad, "V3"))
    assert paths == ["$.runs[0].tags", "$.runs[1].id", "$.runs[1].tags[0].name"]


def test_array_contains_finds_each_variant_anywhere() -> None:
    expected = {
        "status": 200,
        "body": {"events": [{"type": "start"}, {"type": "done", "code": 0}]},
        "matchingRules": {
            "body": {
                "$.events": {
                    "matchers": [
                        {
                            "match": "arrayContains",
                            "variants": [
                                {"index": 0, "rules": {}},
                                {"index": 1, "rules": {"$.code": {"matchers": [{"match": "integer"}]}}},
                            ],
                        }
                    ]
                }
            }
        },
    }
    actual = {"status": 200, "body": {"events": [{"type": "noise"}, {"type": "done", "code": 3}, {"type": "start"}]}}
    assert compare_response(expected, actual, "V4") == []
    missing_done = {"status": 200, "body": {"events": [{"type": "start"}, {"type": "done", "code": "x"}]}}
    [m] = compare_response(expected, missing_done, "V4")
    assert "variant 1" in m.message


def test_each_key_and_each_value_hold_every_entry() -> None:
    expected = {
        "status": 200,
        "body": {"counts": {"a1": 1}},
        "matchingRules": {
            "body": {
                "$.counts": {
                    "matchers": [
                        {"match": "eachKey", "rules": [{"match": "regex", "regex": "[a-z]\\d"}]},
                        {"match": "eachValue", "rules": [{"match": "integer"}]},
                    ]
                }
            }
        },
    }
    assert compare_response(expected, {"status": 200, "body": {"counts": {"b2": 5, "c3": 9}}}, "V4") == []
    mismatches = compare_response(expected, {"status": 200, "body": {"counts": {"BAD": 5, "c3": "x"}}}, "V4")
    assert sorted(m.path for m in mismatches) == ["$.counts.BAD", "$.counts.c3"]


def test_xml_mismatches_name_elements_and_attributes() -> None:
    expected = {
        "status": 200,
        "headers": {"Content-Type": "application/xml"},
        "body": '<job id="1"><name>a</name></job>',
    }
    actual = {"status": 200, "headers": {"Content-Type": "application/xml"}, "body": '<job id="2"><name>b</name></job>'}
    paths = {m.path for m in compare_response(expected, actual, "V3")}
    assert paths == {"$.job['@id']", "$.job.name[0]['#text']"}
    broken = dict(actual, body="<job>")
    [m] = compare_response(expected, broken, "V3")
    assert "not well-formed XML" in m.message
