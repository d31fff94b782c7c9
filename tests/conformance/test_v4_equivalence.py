"""The matching semantics proven by the Pact specification cases hold for V4 files too.

First every V3 request/response case is rewritten into V4 pact form (bodies as
``{"content", "contentType", "encoded"}``, optionally base64-encoded, headers as
lists) and must give the answer the case gives. Then hand-written V4-only cases
cover what the specification folder lacks; each names the place and the reason
of the mismatch it expects.
"""

from __future__ import annotations

import base64
import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.contract import compare_request, compare_response
from app.contract.model import Mismatch

PROJECT_ROOT = Path(__file__).resolve().parents[2]
V4 = "V4"

# Case ids (relative path @ variant) the engine gets wrong today; each is a known bug.


# ---------------------------------------------------------------------------
# The specification cases, rewritten into V4 form
# ---------------------------------------------------------------------------


def _cases_root() -> Path | None:
    configured = os.environ.get("PACT_SPEC_CASES")
    candidates = [Path(configured)] if configured else []
    candidates.append(PROJECT_ROOT.parent / "shared" / "pact-spec")
    return next((path for path in candidates if path.is_dir()), None)


def _content_type(part: dict[str, Any]) -> str | None:
    for name, value in (part.get("headers") or {}).items():
        if name.lower() == "content-type":
            return str(value)
    return None


def _v4_content_type(value: Any, header: str | None) -> str:
    if header:
        return header
    if not isinstance(value, str):
        return "application/json"
    return "application/xml" if value.lstrip().startswith("<") else "text/plain"


def to_v4(part: dict[str, Any], variant: str) -> dict[str, Any]:
    """A V3 request or response rewritten as a V4 pact file writes it."""
    out = copy.deepcopy(part)
    headers = out.get("headers")
    if isinstance(headers, dict):
        if variant == "split-headers":
            out["headers"] = {name: [item.strip() for item in str(v).split(",")] for name, v in headers.items()}
        else:
            out["headers"] = {name: [v] for name, v in headers.items()}
    if "body" in out:
        value = out["body"]
        content_type = _v4_content_type(value, _content_type(part))
        if variant == "base64" and isinstance(value, str):
            encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
            out["body"] = {"content": encoded, "contentType": content_type, "encoded": "base64"}
        else:
            out["body"] = {"content": value, "contentType": content_type, "encoded": False}
    return out


def _has_string_body(case: dict[str, Any]) -> bool:
    return any(isinstance(case[side].get("body"), str) for side in ("expected", "actual"))


def _has_comma_header(case: dict[str, Any]) -> bool:
    return any("," in str(v) for side in ("expected", "actual") for v in (case[side].get("headers") or {}).values())


def _missing() -> list[Any]:
    reason = "Pact specification cases not found (set PACT_SPEC_CASES or place them in ../shared/pact-spec)"
    if os.environ.get("PACT_SPEC_REQUIRED") == "1":
        return [pytest.param(None, None, id="pact-spec-missing")]
    return [pytest.param(None, None, id="pact-spec-missing", marks=pytest.mark.skip(reason=reason))]


def _collect() -> list[Any]:
    root = _cases_root()
    if root is None:
        return _missing()
    params = []
    for path in sorted((root / "v3").rglob("*.json")):
        relative = path.relative_to(root).as_posix()
        if "/request/" not in relative and "/response/" not in relative:
            continue
        case = json.loads(path.read_text(encoding="utf-8"))
        variants = ["v4"]
        if _has_string_body(case):
            variants.append("base64")
        if _has_comma_header(case):
            variants.append("split-headers")
        for variant in variants:
            case_id = f"{relative}@{variant}"
            params.append(pytest.param(path, variant, id=case_id))
    return params or _missing()


@pytest.mark.parametrize(("path", "variant"), _collect())
def test_spec_case_gives_same_answer_in_v4_form(path: Path | None, variant: str | None) -> None:
    if path is None or variant is None:
        pytest.fail("PACT_SPEC_REQUIRED=1 but the Pact specification cases were not found")
    case = json.loads(path.read_text(encoding="utf-8"))
    compare = compare_request if "/request/" in path.as_posix() else compare_response
    mismatches = compare(to_v4(case["expected"], variant), to_v4(case["actual"], variant), V4)
    detail = "\n".join(m.message for m in mismatches)
    if case["match"]:
        assert mismatches == [], f"{case['comment']}: expected a match in V4 form, got:\n{detail}"
    else:
        assert mismatches, f"{case['comment']}: expected a mismatch in V4 form, got none"


def test_rewrite_really_produces_v4_bodies_and_header_lists() -> None:
    part = {"headers": {"Content-Type": "text/plain", "Accept": "a, b"}, "body": "hi"}
    assert to_v4(part, "v4") == {
        "headers": {"Content-Type": ["text/plain"], "Accept": ["a, b"]},
        "body": {"content": "hi", "contentType": "text/plain", "encoded": False},
    }
    assert to_v4(part, "base64")["body"] == {"content": "aGk=", "contentType": "text/plain", "encoded": "base64"}
    assert to_v4(part, "split-headers")["headers"]["Accept"] == ["a", "b"]
    assert to_v4({"body": {"a": 1}}, "base64")["body"]["encoded"] is False
    assert to_v4({"body": "<a/>"}, "v4")["body"]["contentType"] == "application/xml"


# ---------------------------------------------------------------------------
# Helpers for the hand-written V4 cases
# ---------------------------------------------------------------------------


def v4_body(content: Any, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": content, "contentType": content_type, "encoded": False}


def b64_body(data: bytes, content_type: str) -> dict[str, Any]:
    return {"content": base64.b64encode(data).decode("ascii"), "contentType": content_type, "encoded": "base64"}


def json_request(value: Any, rules: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": "POST",
        "path": "/things",
        "headers": {"Content-Type": ["application/json"]},
        "body": v4_body(value),
        **extra,
    }
    if rules:
        request["matchingRules"] = {"body": rules}
    return request


def json_response(value: Any, rules: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "status": 200,
        "headers": {"Content-Type": ["application/json"]},
        "body": v4_body(value),
        **extra,
    }
    if rules:
        response["matchingRules"] = {"body": rules}
    return response


def rule(*matchers: dict[str, Any], combine: str = "AND") -> dict[str, Any]:
    return {"combine": combine, "matchers": list(matchers)}


def response_mismatches(expected: Any, actual: Any, rules: dict[str, Any] | None = None) -> list[Mismatch]:
    return compare_response(json_response(expected, rules), json_response(actual), V4)


def request_mismatches(expected: Any, actual: Any, rules: dict[str, Any] | None = None) -> list[Mismatch]:
    return compare_request(json_request(expected, rules), json_request(actual), V4)


def only(mismatches: list[Mismatch]) -> Mismatch:
    assert len(mismatches) == 1, [m.message for m in mismatches]
    return mismatches[0]


def at(mismatches: list[Mismatch], path: str) -> Mismatch:
    found = [m for m in mismatches if m.path == path]
    assert len(found) == 1, (path, [m.message for m in mismatches])
    return found[0]


def assert_names(mismatch: Mismatch, path: str, *words: str) -> None:
    """The mismatch is located at ``path`` and its message says why (``words``)."""
    assert mismatch.path == path, mismatch
    if mismatch.part == "body" and path == "$":
        assert mismatch.message.startswith("body") or "$" in mismatch.message, mismatch.message
    elif mismatch.part == "body":
        assert path in mismatch.message, mismatch.message
    for word in words:
        assert word in mismatch.message, f"{word!r} not in {mismatch.message!r}"


# ---------------------------------------------------------------------------
# Combining matchers
# ---------------------------------------------------------------------------

ID_INTEGER_OR_LETTERS = {"$.id": rule({"match": "integer"}, {"match": "regex", "regex": "^[a-z]+$"}, combine="OR")}


@pytest.mark.parametrize("actual", [5, "abc"])
def test_or_combination_passes_when_any_matcher_passes(actual: Any) -> None:
    assert response_mismatches({"id": 1}, {"id": actual}, ID_INTEGER_OR_LETTERS) == []


def test_or_combination_fails_with_every_reason_when_all_fail() -> None:
    mismatch = only(response_mismatches({"id": 1}, {"id": 5.5}, ID_INTEGER_OR_LETTERS))
    assert_names(mismatch, "$.id", "integer", "/^[a-z]+$/", " or ")


def test_and_combination_needs_every_matcher() -> None:
    rules = {"$.code": rule({"match": "type"}, {"match": "regex", "regex": r"\d+"})}
    assert response_mismatches({"code": "12"}, {"code": "9876"}, rules) == []
    mismatch = only(response_mismatches({"code": "12"}, {"code": "abc"}, rules))
    assert_names(mismatch, "$.code", r"/\d+/", '"abc"')


# ---------------------------------------------------------------------------
# V4 value matchers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "example", "good", "bad", "reason"),
    [
        ("integer", 1, 42, "42", "expected an integer"),
        ("integer", 1, -7, True, "expected an integer"),
        ("decimal", 1.5, 2.25, 2, "expected a decimal"),
        ("number", 1, 1.5, "1", "expected a number"),
        ("number", 1, -3, False, "expected a number"),
        ("boolean", True, False, "true", "expected a boolean"),
        ("boolean", True, False, 0, "expected a boolean"),
        ("null", None, None, "", "expected null"),
        ("null", None, None, 0, "expected null"),
    ],
)
def test_kind_matchers(matcher: str, example: Any, good: Any, bad: Any, reason: str) -> None:
    rules = {"$.v": rule({"match": matcher})}
    assert response_mismatches({"v": example}, {"v": good}, rules) == []
    assert_names(only(response_mismatches({"v": example}, {"v": bad}, rules)), "$.v", reason)


def test_include_matcher_needs_the_substring() -> None:
    rules = {"$.note": rule({"match": "include", "value": "foo"})}
    assert response_mismatches({"note": "foo"}, {"note": "xfooy"}, rules) == []
    assert_names(only(response_mismatches({"note": "foo"}, {"note": "bar"}, rules)), "$.note", 'containing "foo"')


@pytest.mark.parametrize(("example", "empty"), [("abc", ""), ([1], []), ({"k": 1}, {})])
def test_not_empty_matcher_rejects_empty_values(example: Any, empty: Any) -> None:
    rules = {"$.v": rule({"match": "notEmpty"})}
    assert response_mismatches({"v": example}, {"v": example}, rules) == []
    assert_names(at(response_mismatches({"v": example}, {"v": empty}, rules), "$.v"), "$.v", "non-empty")


def test_not_empty_matcher_still_checks_the_type() -> None:
    rules = {"$.v": rule({"match": "notEmpty"})}
    assert_names(only(response_mismatches({"v": "abc"}, {"v": 12}, rules)), "$.v", "string", "number")


@pytest.mark.parametrize("good", ["1.2.3", "10.0.0-rc.1+build.5"])
def test_semver_matcher_accepts_versions(good: str) -> None:
    rules = {"$.version": rule({"match": "semver"})}
    assert response_mismatches({"version": "1.0.0"}, {"version": good}, rules) == []


@pytest.mark.parametrize("bad", ["1.2", "v1.2.3", "01.2.3"])
def test_semver_matcher_rejects_non_versions(bad: str) -> None:
    rules = {"$.version": rule({"match": "semver"})}
    assert_names(only(response_mismatches({"version": "1.0.0"}, {"version": bad}, rules)), "$.version", "semantic")


@pytest.mark.parametrize(
    ("kind", "fmt", "example", "good", "bad"),
    [
        ("date", "yyyy-MM-dd", "2024-01-31", "2024-02-29", "2024-13-01"),
        ("date", "yyyy-MM-dd", "2024-01-31", "2024-02-29", "29/02/2024"),
        ("date", "dd/MM/yyyy", "31/01/2024", "29/02/2024", "2024-02-29"),
        ("time", "HH:mm:ss", "10:00:00", "23:59:59", "24:00:00"),
        ("time", "HH:mm", "10:00", "07:05", "7:5"),
        (
            "datetime",
            "yyyy-MM-dd'T'HH:mm:ssXXX",
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00+02:00",
            "2024-05-01 10:00:00",
        ),
    ],
)
def test_date_time_matchers_follow_their_format(kind: str, fmt: str, example: str, good: str, bad: str) -> None:
    rules = {"$.when": rule({"match": kind, "format": fmt})}
    assert response_mismatches({"when": example}, {"when": good}, rules) == []
    mismatch = only(response_mismatches({"when": example}, {"when": bad}, rules))
    assert_names(mismatch, "$.when", f"expected a {kind}", repr(fmt))


def test_datetime_matcher_rejects_non_strings() -> None:
    rules = {"$.when": rule({"match": "datetime", "format": "yyyy-MM-dd'T'HH:mm:ss"})}
    mismatch = only(response_mismatches({"when": "2024-05-01T10:00:00"}, {"when": 1714557600}, rules))
    assert_names(mismatch, "$.when", "datetime string", "number")


# ---------------------------------------------------------------------------
# Structural matchers: values, eachKey, eachValue, arrayContains
# ---------------------------------------------------------------------------


def test_values_matcher_frees_the_keys_and_holds_each_value_to_the_example() -> None:
    rules = {"$.scores": rule({"match": "values"})}
    expected = {"scores": {"alice": 1}}
    assert request_mismatches(expected, {"scores": {"bob": 1, "carol": 1}}, rules) == []
    mismatch = only(request_mismatches(expected, {"scores": {"bob": 1, "carol": 3}}, rules))
    assert_names(mismatch, "$.scores.carol", "1", "3")


def test_values_matcher_with_a_type_rule_on_the_values() -> None:
    rules = {"$.scores": rule({"match": "values"}), "$.scores.*": rule({"match": "type"})}
    expected = {"scores": {"alice": 1}}
    assert request_mismatches(expected, {"scores": {"bob": 2, "carol": 3}}, rules) == []
    mismatch = only(request_mismatches(expected, {"scores": {"bob": 2, "dave": "two"}}, rules))
    assert_names(mismatch, "$.scores.dave", "number", '"two"')


def test_without_values_matcher_other_keys_are_refused_in_a_request() -> None:
    mismatches = request_mismatches({"scores": {"alice": 1}}, {"scores": {"alice": 1, "bob": 2}})
    assert_names(only(mismatches), "$.scores.bob", "unexpected key 'bob'")


def test_each_key_matcher_checks_every_key() -> None:
    rules = {"$.tags": rule({"match": "eachKey", "rules": [{"match": "regex", "regex": "^[a-z]+$"}]})}
    expected = {"tags": {"red": 1}}
    assert request_mismatches(expected, {"tags": {"blue": 1, "green": 1}}, rules) == []
    mismatch = only(request_mismatches(expected, {"tags": {"blue": 1, "Green": 1}}, rules))
    assert_names(mismatch, "$.tags.Green", "key 'Green'", "/^[a-z]+$/")


def test_each_value_matcher_checks_every_value_of_an_object() -> None:
    each_value = {"match": "eachValue", "rules": [{"match": "regex", "regex": r"^\d+$"}]}
    rules = {"$.counts": rule(each_value)}
    expected = {"counts": {"a": "1"}}
    assert request_mismatches(expected, {"counts": {"x": "10", "y": "200"}}, rules) == []
    mismatch = only(request_mismatches(expected, {"counts": {"x": "10", "y": "many"}}, rules))
    assert_names(mismatch, "$.counts.y", r"/^\d+$/", '"many"')


def test_each_value_matcher_checks_every_item_of_an_array() -> None:
    each_value = {"match": "eachValue", "rules": [{"match": "regex", "regex": r"^\d+$"}]}
    rules = {"$.ids": rule(each_value)}
    assert response_mismatches({"ids": ["1"]}, {"ids": ["2", "3", "44"]}, rules) == []
    mismatch = only(response_mismatches({"ids": ["1"]}, {"ids": ["2", "x", "44"]}, rules))
    assert_names(mismatch, "$.ids[1]", r"/^\d+$/", '"x"')


ARRAY_CONTAINS = {
    "$.events": rule(
        {
            "match": "arrayContains",
            "variants": [
                {"index": 0, "rules": {"$.id": rule({"match": "integer"})}},
                {"index": 1, "rules": {"$.name": rule({"match": "type"})}},
            ],
        }
    )
}
ARRAY_CONTAINS_EXAMPLE = {"events": [{"type": "created", "id": 1}, {"type": "renamed", "name": "x"}]}


def test_array_contains_finds_each_variant_anywhere_using_its_own_rules() -> None:
    actual = {
        "events": [
            {"type": "renamed", "name": "something else"},
            {"type": "deleted"},
            {"type": "created", "id": 99},
        ]
    }
    assert request_mismatches(ARRAY_CONTAINS_EXAMPLE, actual, ARRAY_CONTAINS) == []


def test_array_contains_reports_the_variant_no_item_matches() -> None:
    actual = {"events": [{"type": "renamed", "name": "y"}, {"type": "created", "id": "not a number"}]}
    mismatch = only(request_mismatches(ARRAY_CONTAINS_EXAMPLE, actual, ARRAY_CONTAINS))
    assert_names(mismatch, "$.events", "variant 0", "none matches")


def test_array_contains_variant_fields_without_rules_must_equal_the_example() -> None:
    actual = {"events": [{"type": "renamed", "name": "y"}, {"type": "made", "id": 5}]}
    mismatch = only(request_mismatches(ARRAY_CONTAINS_EXAMPLE, actual, ARRAY_CONTAINS))
    assert_names(mismatch, "$.events", "variant 0")


def test_array_contains_needs_an_array() -> None:
    mismatches = request_mismatches(ARRAY_CONTAINS_EXAMPLE, {"events": {"type": "created", "id": 1}}, ARRAY_CONTAINS)
    assert any(m.path == "$.events" and "expected an array" in m.message for m in mismatches), mismatches


# ---------------------------------------------------------------------------
# contentType on a binary body, statusCode
# ---------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
OTHER_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


def png_response(data: bytes, *, rules: bool) -> dict[str, Any]:
    response: dict[str, Any] = {
        "status": 200,
        "headers": {"Content-Type": ["image/png"]},
        "body": b64_body(data, "image/png"),
    }
    if rules:
        response["matchingRules"] = {"body": {"$": rule({"match": "contentType", "value": "image/png"})}}
    return response


def test_content_type_matcher_accepts_other_bytes_of_the_same_type() -> None:
    assert compare_response(png_response(PNG, rules=True), png_response(OTHER_PNG, rules=False), V4) == []


def test_content_type_matcher_rejects_bytes_of_another_type() -> None:
    mismatch = only(compare_response(png_response(PNG, rules=True), png_response(PDF, rules=False), V4))
    assert_names(mismatch, "$", "image/png", "application/pdf")


def test_binary_body_without_rules_must_be_the_same_bytes() -> None:
    assert compare_response(png_response(PNG, rules=False), png_response(PNG, rules=False), V4) == []
    mismatch = only(compare_response(png_response(PNG, rules=False), png_response(OTHER_PNG, rules=False), V4))
    assert_names(mismatch, "$", "bytes")


def status_response(status: int, matcher: dict[str, Any] | None = None, keyed: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status}
    if matcher:
        status_rule = rule(matcher)
        response["matchingRules"] = {"status": {"$": status_rule} if keyed else status_rule}
    return response


@pytest.mark.parametrize("keyed", [False, True], ids=["bare", "keyed-by-$"])
@pytest.mark.parametrize(
    ("status_class", "good", "bad"),
    [("success", 204, 404), ("clientError", 404, 500), ("serverError", 503, 200), ("nonError", 302, 400)],
)
def test_status_code_class(status_class: str, good: int, bad: int, keyed: bool) -> None:
    expected = status_response(200, {"match": "statusCode", "status": status_class}, keyed)
    assert compare_response(expected, status_response(good), V4) == []
    mismatch = only(compare_response(expected, status_response(bad), V4))
    assert mismatch.part == "status"
    assert status_class in mismatch.message and str(bad) in mismatch.message


def test_status_code_list() -> None:
    expected = status_response(200, {"match": "statusCode", "status": [200, 201]})
    assert compare_response(expected, status_response(201), V4) == []
    mismatch = only(compare_response(expected, status_response(202), V4))
    assert mismatch.part == "status" and "[200, 201]" in mismatch.message and "202" in mismatch.message


def test_status_without_rule_must_be_equal() -> None:
    mismatch = only(compare_response(status_response(200), status_response(201), V4))
    assert mismatch.part == "status" and "200" in mismatch.message and "201" in mismatch.message


# ---------------------------------------------------------------------------
# min / max and nested eachLike
# ---------------------------------------------------------------------------


def test_min_zero_accepts_an_empty_array() -> None:
    rules = {"$.items": rule({"match": "type", "min": 0})}
    assert response_mismatches({"items": [{"id": 1}]}, {"items": []}, rules) == []


def test_min_is_enforced() -> None:
    rules = {"$.items": rule({"match": "type", "min": 2})}
    mismatch = only(response_mismatches({"items": [1, 2]}, {"items": [1]}, rules))
    assert_names(mismatch, "$.items", "at least 2", "got 1")


def test_max_exceeded_is_reported() -> None:
    rules = {"$.items": rule({"match": "type", "max": 2})}
    assert response_mismatches({"items": [1]}, {"items": [7, 8]}, rules) == []
    mismatch = only(response_mismatches({"items": [1]}, {"items": [7, 8, 9]}, rules))
    assert_names(mismatch, "$.items", "at most 2", "got 3")


def test_items_under_min_type_are_matched_by_the_example() -> None:
    rules = {"$.items": rule({"match": "type", "min": 1})}
    mismatch = only(response_mismatches({"items": [{"id": 1}]}, {"items": [{"id": 2}, {"id": "3"}]}, rules))
    assert_names(mismatch, "$.items[1].id", "number", '"3"')


def test_empty_expected_array_without_rules_needs_an_empty_array() -> None:
    assert response_mismatches({"items": []}, {"items": []}) == []
    assert_names(only(response_mismatches({"items": []}, {"items": [1]})), "$.items", "0 item(s)", "got 1")


NESTED_EACH_LIKE = {
    "$.a": rule({"match": "type", "min": 1}),
    "$.a[*].b": rule({"match": "type", "min": 2}),
}
NESTED_EXAMPLE = {"a": [{"b": [1, 1]}]}


def test_nested_each_like_accepts_any_conforming_lengths() -> None:
    actual = {"a": [{"b": [5, 6, 7]}, {"b": [8, 9]}]}
    assert response_mismatches(NESTED_EXAMPLE, actual, NESTED_EACH_LIKE) == []


def test_nested_each_like_enforces_the_inner_min() -> None:
    mismatch = only(response_mismatches(NESTED_EXAMPLE, {"a": [{"b": [5, 6]}, {"b": [8]}]}, NESTED_EACH_LIKE))
    assert_names(mismatch, "$.a[1].b", "at least 2")


def test_nested_each_like_enforces_the_outer_min() -> None:
    mismatch = only(response_mismatches(NESTED_EXAMPLE, {"a": []}, NESTED_EACH_LIKE))
    assert_names(mismatch, "$.a", "at least 1", "got 0")


def test_nested_each_like_checks_inner_item_types() -> None:
    mismatch = only(response_mismatches(NESTED_EXAMPLE, {"a": [{"b": [1, "x"]}]}, NESTED_EACH_LIKE))
    assert_names(mismatch, "$.a[0].b[1]", "number", '"x"')


# ---------------------------------------------------------------------------
# Numbers: 1 vs 1.0, big integers
# ---------------------------------------------------------------------------


def json_text(text: str) -> dict[str, Any]:
    """A response whose body arrives as JSON text, so 1.0 stays a float as on the wire."""
    return {"status": 200, "headers": {"Content-Type": ["application/json"]}, "body": v4_body(text)}


def test_one_and_one_point_zero_are_equal_json_numbers() -> None:
    assert compare_response(json_response({"n": 1}), json_text('{"n": 1.0}'), V4) == []
    assert compare_response(json_response({"n": 1.0}), json_text('{"n": 1}'), V4) == []


def test_equal_numbers_are_still_compared_by_value() -> None:
    mismatch = only(compare_response(json_response({"n": 1}), json_text('{"n": 1.5}'), V4))
    assert_names(mismatch, "$.n", "1.5")


def test_integer_matcher_rejects_one_point_zero() -> None:
    expected = json_response({"n": 1}, {"$.n": rule({"match": "integer"})})
    assert compare_response(expected, json_text('{"n": 7}'), V4) == []
    assert_names(only(compare_response(expected, json_text('{"n": 1.0}'), V4)), "$.n", "integer", "1.0")


def test_decimal_matcher_rejects_one() -> None:
    expected = json_response({"n": 1.5}, {"$.n": rule({"match": "decimal"})})
    assert compare_response(expected, json_text('{"n": 1.0}'), V4) == []
    assert_names(only(compare_response(expected, json_text('{"n": 1}'), V4)), "$.n", "decimal")


def test_big_integers_are_compared_exactly() -> None:
    big = 2**70
    assert compare_response(json_response({"n": big}), json_text(f'{{"n": {big}}}'), V4) == []
    mismatch = only(compare_response(json_response({"n": big}), json_text(f'{{"n": {big + 1}}}'), V4))
    assert_names(mismatch, "$.n", str(big), str(big + 1))


def test_big_integers_pass_the_integer_matcher() -> None:
    expected = json_response({"n": 1}, {"$.n": rule({"match": "integer"})})
    assert compare_response(expected, json_text(f'{{"n": {2**70 + 1}}}'), V4) == []


# ---------------------------------------------------------------------------
# null vs missing, unicode
# ---------------------------------------------------------------------------


def test_null_value_is_not_a_missing_key() -> None:
    assert response_mismatches({"a": None}, {"a": None}) == []
    assert_names(only(response_mismatches({"a": None}, {})), "$.a", "missing")


def test_null_matcher_does_not_accept_a_missing_key() -> None:
    rules = {"$.a": rule({"match": "null"})}
    assert_names(only(response_mismatches({"a": None}, {}, rules)), "$.a", "missing")


def test_unexpected_null_key_is_refused_in_a_request_only() -> None:
    assert response_mismatches({}, {"a": None}) == []
    assert_names(only(request_mismatches({}, {"a": None})), "$.a", "unexpected key 'a'")


UNICODE = {"naïve": "café ☕", "日本": "東京"}


def test_unicode_keys_and_values_match_themselves() -> None:
    assert response_mismatches(UNICODE, dict(UNICODE)) == []


def test_unicode_value_difference_is_named_readably() -> None:
    mismatch = only(response_mismatches(UNICODE, {**UNICODE, "日本": "大阪"}))
    assert_names(mismatch, "$['日本']", "東京", "大阪")


def test_unicode_key_missing_is_named() -> None:
    mismatch = only(response_mismatches(UNICODE, {"日本": "東京"}))
    assert_names(mismatch, "$.naïve", "missing", "café ☕")


def test_base64_utf8_json_body_is_decoded_before_matching() -> None:
    data = json.dumps(UNICODE, ensure_ascii=False).encode("utf-8")
    actual = {
        "status": 200,
        "headers": {"Content-Type": ["application/json"]},
        "body": b64_body(data, "application/json"),
    }
    assert compare_response(json_response(UNICODE), actual, V4) == []


def test_v4_body_content_type_decides_how_a_string_is_read() -> None:
    expected = {"status": 200, "body": v4_body('{"a": 1}', "application/json")}
    assert compare_response(expected, {"status": 200, "body": v4_body({"a": 1})}, V4) == []
    assert_names(only(compare_response(expected, {"status": 200, "body": v4_body({"a": 2})}, V4)), "$.a", "2")


# ---------------------------------------------------------------------------
# Regex anchors
# ---------------------------------------------------------------------------

ANCHORED_DIGITS = r"^\d+$"


@pytest.mark.parametrize("bad", ["12a", "", "a12", "1 2"])
def test_anchored_regex_in_body(bad: str) -> None:
    rules = {"$.id": rule({"match": "regex", "regex": ANCHORED_DIGITS})}
    assert response_mismatches({"id": "1"}, {"id": "12345"}, rules) == []
    assert_names(only(response_mismatches({"id": "1"}, {"id": bad}, rules)), "$.id", ANCHORED_DIGITS)


def test_anchored_regex_on_the_path() -> None:
    expected = {
        "method": "GET",
        "path": "/items/1",
        "matchingRules": {"path": rule({"match": "regex", "regex": r"^/items/\d+$"})},
    }
    assert compare_request(expected, {"method": "GET", "path": "/items/42"}, V4) == []
    mismatch = only(compare_request(expected, {"method": "GET", "path": "/items/42/x"}, V4))
    assert mismatch.part == "path" and "/items/42/x" in mismatch.message


def test_anchored_regex_on_a_query_parameter() -> None:
    expected = {
        "method": "GET",
        "path": "/items",
        "query": {"page": ["1"]},
        "matchingRules": {"query": {"page": rule({"match": "regex", "regex": ANCHORED_DIGITS})}},
    }
    assert compare_request(expected, {"method": "GET", "path": "/items", "query": {"page": ["17"]}}, V4) == []
    actual = {"method": "GET", "path": "/items", "query": {"page": ["17x"]}}
    mismatch = only(compare_request(expected, actual, V4))
    assert_names(mismatch, "page", "query parameter 'page'", ANCHORED_DIGITS)


# ---------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------


def get(headers: dict[str, list[str]], **extra: Any) -> dict[str, Any]:
    return {"method": "GET", "path": "/h", "headers": headers, **extra}


def test_header_names_are_case_insensitive() -> None:
    assert compare_request(get({"X-Api-Key": ["k1"]}), get({"x-api-key": ["k1"]}), V4) == []
    mismatch = only(compare_request(get({"X-Api-Key": ["k1"]}), get({"x-api-key": ["k2"]}), V4))
    assert_names(mismatch, "X-Api-Key", "header 'X-Api-Key'", '"k1"', '"k2"')


def test_header_rule_applies_whatever_the_case_of_its_name() -> None:
    expected = get(
        {"X-Api-Key": ["k1"]}, matchingRules={"header": {"x-api-key": rule({"match": "regex", "regex": "k\\d"})}}
    )
    assert compare_request(expected, get({"X-API-KEY": ["k9"]}), V4) == []
    assert_names(only(compare_request(expected, get({"X-API-KEY": ["kk"]}), V4)), "X-Api-Key", "/k\\d/")


def test_missing_header_is_named() -> None:
    mismatch = only(compare_request(get({"X-Api-Key": ["k1"]}), get({}), V4))
    assert_names(mismatch, "X-Api-Key", "missing")


@pytest.mark.parametrize("actual", [["gzip, deflate"], ["gzip,deflate"], ["gzip", "deflate"]])
def test_comma_separated_header_values_equal_a_header_list(actual: list[str]) -> None:
    assert compare_request(get({"Accept-Encoding": ["gzip", "deflate"]}), get({"Accept-Encoding": actual}), V4) == []


def test_order_of_header_values_matters() -> None:
    mismatch = only(
        compare_request(get({"Accept-Encoding": ["gzip", "deflate"]}), get({"Accept-Encoding": ["deflate, gzip"]}), V4)
    )
    assert_names(mismatch, "Accept-Encoding", "header 'Accept-Encoding'", "deflate, gzip")


@pytest.mark.parametrize(
    "actual",
    ["application/json;charset=utf-8", "Application/JSON; charset=UTF-8", 'application/json; charset="utf-8"'],
)
def test_content_type_parameters_compare_loosely_where_http_says_so(actual: str) -> None:
    expected = get({"Content-Type": ["application/json; charset=UTF-8"]})
    assert compare_request(expected, get({"Content-Type": [actual]}), V4) == []


def test_content_type_extra_parameter_in_actual_is_fine() -> None:
    expected = get({"Content-Type": ["application/json"]})
    assert compare_request(expected, get({"Content-Type": ["application/json; charset=utf-8"]}), V4) == []


def test_content_type_missing_parameter_is_named() -> None:
    expected = get({"Content-Type": ["application/json; charset=UTF-8"]})
    mismatch = only(compare_request(expected, get({"Content-Type": ["application/json"]}), V4))
    assert_names(mismatch, "Content-Type", "charset=UTF-8", "missing")


def test_content_type_different_parameter_value_is_named() -> None:
    expected = get({"Content-Type": ["text/plain; charset=utf-8"]})
    mismatch = only(compare_request(expected, get({"Content-Type": ["text/plain; charset=iso-8859-1"]}), V4))
    assert_names(mismatch, "Content-Type", "charset=utf-8", "charset=iso-8859-1")


def test_content_type_different_media_type_is_named() -> None:
    expected = get({"Content-Type": ["application/json"]})
    mismatch = only(compare_request(expected, get({"Content-Type": ["text/plain"]}), V4))
    assert_names(mismatch, "Content-Type", "application/json", "text/plain")


# ---------------------------------------------------------------------------
# Query
# ---------------------------------------------------------------------------


def query(params: dict[str, list[str]]) -> dict[str, Any]:
    return {"method": "GET", "path": "/q", "query": params}


def test_repeated_query_values_must_all_be_there_in_order() -> None:
    expected = query({"tag": ["a", "b"]})
    assert compare_request(expected, query({"tag": ["a", "b"]}), V4) == []
    assert_names(only(compare_request(expected, query({"tag": ["b", "a"]}), V4)), "tag", "query parameter 'tag'")
    assert_names(only(compare_request(expected, query({"tag": ["a"]}), V4)), "tag", "query parameter 'tag'")


def test_order_of_query_keys_does_not_matter() -> None:
    expected = query({"a": ["1"], "b": ["2"]})
    assert compare_request(expected, query({"b": ["2"], "a": ["1"]}), V4) == []


def test_missing_and_unexpected_query_parameters_are_named() -> None:
    mismatches = compare_request(query({"a": ["1"]}), query({"b": ["2"]}), V4)
    assert sorted((m.path, "missing" in m.message, "unexpected" in m.message) for m in mismatches) == [
        ("a", True, False),
        ("b", False, True),
    ]


def test_repeated_query_values_under_a_rule_are_each_checked() -> None:
    expected = query({"id": ["1"]})
    expected["matchingRules"] = {"query": {"id": rule({"match": "regex", "regex": ANCHORED_DIGITS, "min": 1})}}
    assert compare_request(expected, query({"id": ["3", "4", "5"]}), V4) == []
    mismatch = only(compare_request(expected, query({"id": ["3", "x"]}), V4))
    assert_names(mismatch, "id", "query parameter 'id'", '"x"')


# ---------------------------------------------------------------------------
# Form and plain-text bodies
# ---------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


def form_request(text: str, rules: dict[str, Any] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": "POST",
        "path": "/form",
        "headers": {"Content-Type": [FORM]},
        "body": v4_body(text, FORM),
    }
    if rules:
        request["matchingRules"] = {"body": rules}
    return request


def test_form_body_field_order_does_not_matter() -> None:
    assert compare_request(form_request("name=Mary&age=3"), form_request("age=3&name=Mary"), V4) == []


def test_form_body_decodes_percent_escapes() -> None:
    assert compare_request(form_request("name=Mary+Ann"), form_request("name=Mary%20Ann"), V4) == []


def test_form_body_different_field_is_named() -> None:
    mismatch = only(compare_request(form_request("name=Mary&age=3"), form_request("name=Fred&age=3"), V4))
    assert_names(mismatch, "name", "form field 'name'", "Mary", "Fred")


def test_form_body_missing_and_unexpected_fields_are_named() -> None:
    mismatches = compare_request(form_request("name=Mary"), form_request("nom=Mary"), V4)
    assert sorted(m.path for m in mismatches) == ["name", "nom"]
    assert all("form field" in m.message for m in mismatches)


def test_form_body_rule_applies_to_its_field() -> None:
    rules = {"$.age": rule({"match": "regex", "regex": ANCHORED_DIGITS})}
    assert compare_request(form_request("age=3", rules), form_request("age=45"), V4) == []
    assert_names(
        only(compare_request(form_request("age=3", rules), form_request("age=x"), V4)), "age", "form field 'age'"
    )


def text_response(text: str, rules: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "status": 200,
        "headers": {"Content-Type": ["text/plain"]},
        "body": v4_body(text, "text/plain"),
    }
    if rules:
        response["matchingRules"] = {"body": rules}
    return response


TEXT_RULE = {"$": rule({"match": "regex", "regex": r"^hello \d+$"})}


def test_text_body_regex_at_root_matches_the_whole_text() -> None:
    assert compare_response(text_response("hello 1", TEXT_RULE), text_response("hello 42"), V4) == []


def test_text_body_regex_at_root_reports_the_body() -> None:
    mismatch = only(compare_response(text_response("hello 1", TEXT_RULE), text_response("hello x"), V4))
    assert_names(mismatch, "$", "body:", r"/^hello \d+$/", "hello x")


def test_text_body_without_rule_must_be_equal() -> None:
    mismatch = only(compare_response(text_response("hello 1"), text_response("hello 2"), V4))
    assert_names(mismatch, "$", "hello 1", "hello 2")


def test_base64_text_body_is_matched_as_text_against_a_plain_contract() -> None:
    actual = {"status": 200, "headers": {"Content-Type": ["text/plain"]}, "body": b64_body(b"hello 42", "text/plain")}
    assert compare_response(text_response("hello 1", TEXT_RULE), actual, V4) == []


def test_base64_text_body_regex_at_root_matches_the_decoded_text() -> None:
    expected = {
        "status": 200,
        "headers": {"Content-Type": ["text/plain"]},
        "body": b64_body(b"hello 1", "text/plain"),
        "matchingRules": {"body": TEXT_RULE},
    }
    actual = {"status": 200, "headers": {"Content-Type": ["text/plain"]}, "body": b64_body(b"hello 42", "text/plain")}
    assert compare_response(expected, actual, V4) == []
