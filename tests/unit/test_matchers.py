"""Single matchers, rule paths and date formats, at their boundaries."""

from __future__ import annotations

import pytest

from app.contract.match.datetimes import DateFormatError, compile_format, matches_format
from app.contract.match.rulepaths import parse_path, path_weight, select_rule
from app.contract.match.rules import check, check_all, values_equal
from app.contract.model import RuleList


def passes(matcher: dict, actual: object, expected: object = None, **kw: bool) -> bool:
    return check(matcher, expected, actual, **kw) is None


@pytest.mark.parametrize(
    ("expected", "actual", "equal"),
    [
        (1, 1.0, True),
        (1, True, False),
        (0, False, False),
        ("1", 1, False),
        (None, None, True),
        ([1, 2], [1, 2], True),
        ([1, 2], [2, 1], False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        (2**70, 2**70, True),
        (2**70, 2**70 + 1, False),
        ("caf\u00e9", "caf\u00e9", True),
    ],
)
def test_equality_follows_json_not_python(expected: object, actual: object, equal: bool) -> None:
    assert values_equal(expected, actual) is equal
    assert passes({"match": "equality"}, actual, expected) is equal


def test_regex_must_match_the_whole_value() -> None:
    assert passes({"match": "regex", "regex": r"\d+"}, "123")
    assert not passes({"match": "regex", "regex": r"\d+"}, "123abc")
    assert passes({"match": "regex", "regex": r"^\d+$"}, "42")
    assert not passes({"match": "regex", "regex": r"^\d+$"}, "")


def test_regex_sees_numbers_as_their_json_text_and_rejects_containers() -> None:
    assert passes({"match": "regex", "regex": r"\d+"}, 123)
    assert not passes({"match": "regex", "regex": r".*"}, {"a": 1})
    assert not passes({"match": "regex", "regex": r".*"}, None)


def test_invalid_regex_in_contract_is_reported_not_raised() -> None:
    message = check({"match": "regex", "regex": "("}, "x", "x")
    assert message is not None and "invalid" in message


@pytest.mark.parametrize(
    ("matcher", "actual", "ok"),
    [
        ({"match": "type", "min": 0}, [], True),
        ({"match": "type", "min": 1}, [], False),
        ({"match": "type", "max": 2}, [1, 2], True),
        ({"match": "type", "max": 2}, [1, 2, 3], False),
        ({"match": "type", "min": 1, "max": 1}, [1], True),
    ],
)
def test_min_and_max_bound_array_length(matcher: dict, actual: list, ok: bool) -> None:
    assert passes(matcher, actual, [1]) is ok


def test_inherited_type_rule_does_not_apply_lengths() -> None:
    assert passes({"match": "type", "min": 5}, [1], [1], inherited=True)


def test_type_distinguishes_json_kinds_but_not_int_from_float() -> None:
    assert passes({"match": "type"}, 2.5, 1)
    assert not passes({"match": "type"}, "1", 1)
    assert not passes({"match": "type"}, True, 1)
    assert not passes({"match": "type"}, None, "x")


@pytest.mark.parametrize(
    ("kind", "actual", "ok"),
    [
        ("integer", 1, True),
        ("integer", 1.0, False),
        ("integer", True, False),
        ("integer", 2**70, True),
        ("decimal", 1.5, True),
        ("decimal", 1, False),
        ("number", 1, True),
        ("number", 1.5, True),
        ("number", "1", False),
        ("boolean", False, True),
        ("boolean", 0, False),
        ("null", None, True),
        ("null", "null", False),
    ],
)
def test_number_boolean_and_null_kinds_in_json(kind: str, actual: object, ok: bool) -> None:
    assert passes({"match": kind}, actual) is ok


def test_text_values_may_satisfy_number_kinds_in_headers_and_query() -> None:
    assert passes({"match": "integer"}, "123", stringly=True)
    assert not passes({"match": "integer"}, "12.5", stringly=True)
    assert passes({"match": "decimal"}, "12.5", stringly=True)
    assert passes({"match": "boolean"}, "true", stringly=True)
    assert not passes({"match": "integer"}, "123")


def test_include_not_empty_and_semver() -> None:
    assert passes({"match": "include", "value": "ell"}, "hello")
    assert not passes({"match": "include", "value": "xyz"}, "hello")
    assert not passes({"match": "notEmpty"}, "", "x")
    assert not passes({"match": "notEmpty"}, [], [1])
    assert passes({"match": "notEmpty"}, [2], [1])
    assert passes({"match": "semver"}, "1.2.3-rc.1+build.5")
    assert not passes({"match": "semver"}, "1.2")
    assert not passes({"match": "semver"}, "01.2.3")


@pytest.mark.parametrize(
    ("status", "actual", "ok"),
    [
        ("success", 204, True),
        ("success", 301, False),
        ("clientError", 404, True),
        ([200, 201], 201, True),
        ([200], 202, False),
    ],
)
def test_status_code_classes_and_lists(status: object, actual: int, ok: bool) -> None:
    assert passes({"match": "statusCode", "status": status}, actual) is ok


def test_content_type_sniffs_the_actual_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    assert passes({"match": "contentType", "value": "image/png"}, png)
    assert not passes({"match": "contentType", "value": "image/png"}, b"%PDF-1.7")
    assert passes({"match": "contentType", "value": "application/json"}, '{"a": 1}')


def test_or_passes_when_any_matcher_passes_and_and_needs_all() -> None:
    matchers = ({"match": "integer"}, {"match": "null"})
    assert check_all(matchers, "OR", 1, None) == []
    assert check_all(matchers, "OR", 1, "x") != []
    assert len(check_all(matchers, "AND", 1, 5)) == 1


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("yyyy-MM-dd", "2024-02-29", True),
        ("yyyy-MM-dd", "2024-13-01", False),
        ("yyyy-MM-dd", "2024-1-01", False),
        ("dd/MM/yyyy", "06/10/2015", True),
        ("HH:mm:ss", "23:59:59", True),
        ("HH:mm:ss", "24:00:00", False),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-05-01T10:20:30.123+02:00", True),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-05-01T10:20:30.123Z", True),
        ("yyyy-MM-dd'T'HH:mm:ssZ", "2024-05-01T10:20:30+0200", True),
        ("EEE, dd MMM yyyy HH:mm:ss z", "Tue, 01 May 2024 10:20:30 GMT", True),
        ("h:mm a", "3:05 PM", True),
    ],
)
def test_java_date_patterns(pattern: str, value: str, ok: bool) -> None:
    assert matches_format(value, pattern) is ok


def test_unknown_pattern_letter_is_a_contract_error() -> None:
    with pytest.raises(DateFormatError):
        compile_format("yyyy-bb")
    message = check({"match": "date", "format": "yyyy-bb"}, None, "2024-01")
    assert message is not None and "invalid" in message


def test_iso_defaults_without_format() -> None:
    assert passes({"match": "date"}, "2024-02-29")
    assert not passes({"match": "date"}, "2023-02-29")
    assert passes({"match": "time"}, "10:20:30")
    assert passes({"match": "datetime"}, "2024-05-01T10:20:30.123456789Z")
    assert not passes({"match": "datetime"}, "yesterday")


def test_rule_paths_parse_dots_brackets_and_wildcards() -> None:
    assert parse_path("$.a[0].b") == ("a", 0, "b")
    assert parse_path("$['x y'].*[*]") == ("x y", "*", "[*]")
    assert parse_path('$["@name"]') == ("@name",)


def test_most_specific_rule_wins() -> None:
    ruleset = {
        "$.a": RuleList(({"match": "type"},)),
        "$.a[*].b": RuleList(({"match": "integer"},)),
        "$.a[0].b": RuleList(({"match": "regex", "regex": "x"},)),
    }
    assert select_rule(ruleset, ("a", 0, "b")).rules.matchers[0]["match"] == "regex"
    assert select_rule(ruleset, ("a", 3, "b")).rules.matchers[0]["match"] == "integer"
    inherited = select_rule(ruleset, ("a", 3, "c"))
    assert inherited.rules.matchers[0]["match"] == "type" and not inherited.exact
    assert select_rule(ruleset, ("z",)) is None
    assert path_weight(parse_path("$.a.*"), ("a", "b")) == 4


def test_remembered_rule_choices_stay_bounded_however_many_rule_sets_and_locations_are_seen() -> None:
    """Rule choices are remembered per rule set; a long run with many contracts must not grow without bound."""
    import gc
    import tracemalloc

    def rule_set() -> dict[str, RuleList]:
        return {"$.items": RuleList(({"match": "type"},)), "$.items[*].id": RuleList(({"match": "integer"},))}

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for round_number in range(200):
            rules = rule_set()  # a fresh rule set each round, as lazily compiled contracts come and go
            for index in range(1000):
                choice = select_rule(rules, ("items", index, "id"))
                assert choice is not None and choice.rules.matchers[0]["match"] == "integer", round_number
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 200,000 distinct (rule set, location) questions; what stays is a bounded memo of a few MB.
    assert grown < 40 * 1024 * 1024, grown
