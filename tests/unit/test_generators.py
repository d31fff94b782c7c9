"""Generators as a consumer of the mock sees them: fresh, well-formed and, with a seed, repeatable."""

from __future__ import annotations

import copy
import logging
import random
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from app.contract.match.datetimes import matches_format
from app.contract.model import Body, Response
from app.contract.serve.generators import GeneratorContext, apply_generators, generate_value

SEEDED = GeneratorContext(seed=7)


def gen(definition: dict[str, Any], current: Any = None, context: GeneratorContext | None = None, seed: int = 1) -> Any:
    return generate_value(definition, current, context or GeneratorContext(), random.Random(seed))


def many(definition: dict[str, Any], current: Any = None, count: int = 50) -> list[Any]:
    return [gen(definition, current, seed=seed) for seed in range(count)]


# --- single values ---------------------------------------------------------------------------------------------------


def test_random_int_stays_within_bounds_and_varies() -> None:
    values = many({"type": "RandomInt", "min": 5, "max": 9}, 0)
    assert all(isinstance(v, int) and 5 <= v <= 9 for v in values)
    assert len(set(values)) > 1


def test_random_int_defaults_to_non_negative_int32() -> None:
    values = many({"type": "RandomInt"}, 0)
    assert all(0 <= v <= 2147483647 for v in values)
    assert max(values) > 1000


def test_random_int_min_equal_to_max_gives_that_value() -> None:
    assert set(many({"type": "RandomInt", "min": 3, "max": 3}, 0)) == {3}


def test_random_int_keeps_a_string_example_a_string() -> None:
    value = gen({"type": "RandomInt", "min": 10, "max": 99}, "42")
    assert isinstance(value, str) and value.isdigit() and 10 <= int(value) <= 99


def test_random_int_with_min_above_max_is_rejected() -> None:
    with pytest.raises(ValueError, match="min"):
        gen({"type": "RandomInt", "min": 5, "max": 1})


def test_random_decimal_has_the_requested_digits() -> None:
    for value in many({"type": "RandomDecimal", "digits": 6}, "1.5"):
        assert isinstance(value, str)
        assert re.fullmatch(r"\d+\.\d+", value)
        assert len(value.replace(".", "")) == 6


def test_random_decimal_for_a_number_example_is_a_float() -> None:
    values = many({"type": "RandomDecimal", "digits": 5}, 1.5)
    assert all(type(v) is float for v in values)
    assert all(len(repr(v).replace(".", "")) == 5 for v in values)


def test_random_hexadecimal_default_and_explicit_length() -> None:
    assert all(re.fullmatch(r"[0-9a-f]{10}", v) for v in many({"type": "RandomHexadecimal"}))
    assert re.fullmatch(r"[0-9a-f]{3}", gen({"type": "RandomHexadecimal", "digits": 3}))


def test_random_string_is_alphanumeric_of_the_given_size() -> None:
    assert all(re.fullmatch(r"[A-Za-z0-9]{20}", v) for v in many({"type": "RandomString"}))
    assert re.fullmatch(r"[A-Za-z0-9]{4}", gen({"type": "RandomString", "size": 4}))


def test_random_string_of_size_zero_is_empty() -> None:
    assert gen({"type": "RandomString", "size": 0}, "abc") == ""


def test_random_boolean_gives_both_values() -> None:
    assert set(many({"type": "RandomBoolean"}, True)) == {True, False}


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("lower-case-hyphenated", r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
        ("upper-case-hyphenated", r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}"),
        ("simple", r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}"),
        ("URN", r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
    ],
)
def test_uuid_formats(kind: str, pattern: str) -> None:
    assert re.fullmatch(pattern, gen({"type": "Uuid", "format": kind}))


def test_uuid_defaults_to_lower_case_hyphenated_version_4() -> None:
    value = gen({"type": "Uuid"}, "x")
    assert str(uuid.UUID(value)) == value
    assert uuid.UUID(value).version == 4


def test_uuid_with_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="Uuid format"):
        gen({"type": "Uuid", "format": "base64"})


# --- Regex -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "regex",
    [
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        r"\d{4}-\d{2}-\d{2}",
        r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
        r"[A-Z]{3}-\d+",
        r"(foo|bar)baz",
        r"https?://[a-z]+\.com/\w+",
        r"(?:ACTIVE|INACTIVE|PENDING)",
        r"[^a-z]{2,4}\s\D\W",
        r"\w+@\w+\.(com|org)",
        r"v\d+(\.\d+){2}(-rc\d*)?",
        r"[-_.a-c]*x{2,}y?",
        r"a.c\x41\u00e9\[\]\{\}",
        r"(?P<year>\d{4})/[1-9]\d{0,2}",
    ],
)
def test_regex_output_matches_the_regex(regex: str) -> None:
    for value in many({"type": "Regex", "regex": regex}, count=30):
        assert re.fullmatch(regex, value), (regex, value)


def test_regex_repeat_zero_times_produces_nothing() -> None:
    assert set(many({"type": "Regex", "regex": r"a\d{0}b"}, count=10)) == {"ab"}


def test_regex_unbounded_repetition_is_capped() -> None:
    values = many({"type": "Regex", "regex": r"x*"}, count=100)
    assert max(len(v) for v in values) <= 5
    assert len({len(v) for v in values}) > 1


@pytest.mark.parametrize("regex", [r"(?=a)b", r"(a)\1", r"\bword", r"[abc", r"(ab", r"ab)", r"*a", r"[z-a]"])
def test_regex_outside_the_supported_subset_is_a_clear_error(regex: str) -> None:
    with pytest.raises(ValueError, match="Regex generator cannot handle"):
        gen({"type": "Regex", "regex": regex})


# --- dates and times -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("Date", "yyyy-MM-dd"),
        ("Date", "dd/MM/yy"),
        ("Date", "EEE, d MMM yyyy"),
        ("Time", "HH:mm:ss"),
        ("Time", "hh:mm a"),
        ("Time", "HH:mm:ss.SSS"),
        ("DateTime", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"),
        ("DateTime", "yyyy-MM-dd'T'HH:mm:ssZ"),
        ("DateTime", "yyyy-MM-dd HH:mm:ss.SSSSSS xxx"),
        ("DateTime", "EEEE, MMMM d, yyyy 'at' h:mm a z"),
    ],
)
def test_date_time_values_match_their_format(kind: str, fmt: str) -> None:
    for context in (GeneratorContext(), SEEDED):
        value = gen({"type": kind, "format": fmt}, "example", context)
        assert matches_format(value, fmt), (fmt, value)


def test_date_time_default_formats_are_iso() -> None:
    assert matches_format(gen({"type": "Date"}), "yyyy-MM-dd")
    assert matches_format(gen({"type": "Time"}), "HH:mm:ss")
    assert matches_format(gen({"type": "DateTime"}), "yyyy-MM-dd'T'HH:mm:ss.SSSXXX")


def test_date_time_without_seed_is_the_current_utc_time() -> None:
    value = gen({"type": "DateTime", "format": "yyyy-MM-dd'T'HH:mm:ssXXX"})
    generated = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    assert abs((datetime.now(UTC) - generated).total_seconds()) < 5


def test_seeded_date_time_uses_a_fixed_instant() -> None:
    assert gen({"type": "DateTime"}, context=SEEDED) == "2024-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("now", "2024-01-01 00:00"),
        ("today", "2024-01-01 00:00"),
        ("tomorrow", "2024-01-02 00:00"),
        ("yesterday", "2023-12-31 00:00"),
        ("+1 day", "2024-01-02 00:00"),
        ("-2 hours", "2023-12-31 22:00"),
        ("+1 day +2 hours", "2024-01-02 02:00"),
        ("tomorrow + 30 minutes", "2024-01-02 00:30"),
        ("+90 seconds", "2024-01-01 00:01"),
        ("+2 weeks", "2024-01-15 00:00"),
        ("+1 month", "2024-02-01 00:00"),
        ("+30 days +1 month", "2024-02-29 00:00"),  # Jan 31 + 1 month: end of February, not March
        ("-1 year", "2023-01-01 00:00"),
        ("+1 YEAR -1 Day", "2024-12-31 00:00"),
    ],
)
def test_date_expressions(expression: str, expected: str) -> None:
    definition = {"type": "DateTime", "format": "yyyy-MM-dd HH:mm", "expression": expression}
    assert gen(definition, context=SEEDED) == expected


def test_date_expression_that_is_not_understood_is_rejected() -> None:
    with pytest.raises(ValueError, match="date expression"):
        gen({"type": "Date", "expression": "next monday"}, context=SEEDED)


# --- provider state and mock server URL ------------------------------------------------------------------------------

STATE = GeneratorContext(provider_state_params={"id": 42, "jobId": "j-1", "runId": 7, "flag": "true"})


def test_provider_state_single_placeholder_keeps_the_parameter_type() -> None:
    assert gen({"type": "ProviderState", "expression": "${id}"}, 1, STATE) == 42


def test_provider_state_interpolates_into_text() -> None:
    definition = {"type": "ProviderState", "expression": "/jobs/${jobId}/runs/${runId}"}
    assert gen(definition, "/jobs/x/runs/1", STATE) == "/jobs/j-1/runs/7"


def test_provider_state_missing_parameter_keeps_the_example() -> None:
    assert gen({"type": "ProviderState", "expression": "/jobs/${nope}"}, "/jobs/1", STATE) == "/jobs/1"


@pytest.mark.parametrize(
    ("expression", "data_type", "expected"),
    [
        ("${id}", "STRING", "42"),
        ("${runId}${id}", "INTEGER", 742),
        ("${id}", "DECIMAL", 42.0),
        ("${flag}", "BOOLEAN", True),
        ("${jobId}", "RAW", "j-1"),
    ],
)
def test_provider_state_data_type_converts(expression: str, data_type: str, expected: Any) -> None:
    value = gen({"type": "ProviderState", "expression": expression, "dataType": data_type}, None, STATE)
    assert value == expected and type(value) is type(expected)


def test_provider_state_conversion_failure_is_reported() -> None:
    with pytest.raises(ValueError, match="INTEGER"):
        gen({"type": "ProviderState", "expression": "${jobId}", "dataType": "INTEGER"}, None, STATE)


def test_mock_server_url_replaces_the_base_and_keeps_the_path() -> None:
    context = GeneratorContext(mock_server_url="http://127.0.0.1:5000/")
    definition = {"type": "MockServerURL", "regex": r".*(/orders/\d+)$", "example": "http://x:1234/orders/1"}
    assert gen(definition, "http://example.com/orders/17", context) == "http://127.0.0.1:5000/orders/17"
    no_slash = {"type": "MockServerURL", "regex": r"https?://[^/]+/(.*)"}
    assert gen(no_slash, "http://example.com/a/b", context) == "http://127.0.0.1:5000/a/b"


def test_mock_server_url_without_a_known_url_or_match_keeps_the_example() -> None:
    definition = {"type": "MockServerURL", "regex": r".*(/orders/\d+)$"}
    assert gen(definition, "http://example.com/orders/17") == "http://example.com/orders/17"
    context = GeneratorContext(mock_server_url="http://mock")
    assert gen(definition, "http://example.com/other", context) == "http://example.com/other"


def test_unknown_generator_type_keeps_the_example_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.contract.serve.generators"):
        assert gen({"type": "Fancy"}, {"a": 1}) == {"a": 1}
    assert len(caplog.records) == 1
    assert "Fancy" in caplog.records[0].getMessage()


# --- whole responses -------------------------------------------------------------------------------------------------


def job_response() -> Response:
    return Response(
        status=200,
        headers={"Content-Type": ["application/json"], "X-Request-Id": ["abc", "def"]},
        body=Body(
            {
                "id": 1,
                "name": "job",
                "runs": [{"id": 10, "createdTs": "t"}, {"id": 11, "createdTs": "t"}],
                "tags": {"a": "x", "b": "y"},
            },
            "application/json",
        ),
        generators={
            "status": {"": {"type": "RandomInt", "min": 201, "max": 201}},
            "header": {"x-request-id": {"type": "Uuid"}},
            "body": {
                "$.id": {"type": "RandomInt", "min": 100, "max": 999},
                "$.runs[*].id": {"type": "RandomInt", "min": 1000, "max": 1999},
                "$.runs[0].createdTs": {"type": "DateTime"},
                "$.tags.*": {"type": "RandomString", "size": 3},
                "$.missing.field": {"type": "RandomInt"},
                "$.runs[5].id": {"type": "RandomInt"},
            },
        },
    )


def test_apply_generators_replaces_status_headers_and_body() -> None:
    result = apply_generators(job_response(), GeneratorContext())
    assert result.status == 201
    request_ids = result.headers["X-Request-Id"]
    assert len(request_ids) == 2 and all(str(uuid.UUID(v)) == v for v in request_ids)
    assert result.headers["Content-Type"] == ["application/json"]
    body = result.body.value
    assert 100 <= body["id"] <= 999
    assert body["name"] == "job"
    assert all(1000 <= run["id"] <= 1999 for run in body["runs"])
    assert matches_format(body["runs"][0]["createdTs"], "yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
    assert body["runs"][1]["createdTs"] == "t"
    assert all(re.fullmatch(r"[A-Za-z0-9]{3}", v) for v in body["tags"].values())
    assert set(body) == {"id", "name", "runs", "tags"}  # unmatched paths add nothing
    assert len(body["runs"]) == 2


def test_apply_generators_does_not_mutate_the_input() -> None:
    response = job_response()
    before = copy.deepcopy(response)
    apply_generators(response, GeneratorContext(seed=3))
    assert response == before


def test_same_seed_gives_the_same_response() -> None:
    response = job_response()
    response.generators["body"]["$.name"] = {"type": "Regex", "regex": r"[a-z]{5}\d{3}"}
    first = apply_generators(response, GeneratorContext(seed=11))
    second = apply_generators(response, GeneratorContext(seed=11))
    assert first == second


@pytest.mark.parametrize("definition", [{"type": "RandomString"}, {"type": "Uuid"}])
def test_different_seeds_give_different_values(definition: dict[str, Any]) -> None:
    response = Response(body=Body({"value": "example"}), generators={"body": {"$.value": definition}})
    values = {apply_generators(response, GeneratorContext(seed=seed)).body.value["value"] for seed in range(5)}
    assert len(values) == 5


def test_whole_body_generators_for_text_and_json() -> None:
    text = Response(body=Body("hello", "text/plain"), generators={"body": {"$": {"type": "RandomString", "size": 8}}})
    generated = apply_generators(text, SEEDED).body
    assert re.fullmatch(r"[A-Za-z0-9]{8}", generated.value) and generated.content_type == "text/plain"
    json_body = Response(
        body=Body([1, 2]), generators={"body": {"$": {"type": "ProviderState", "expression": "${id}"}}}
    )
    assert apply_generators(json_body, STATE).body.value == 42


def test_field_paths_do_not_touch_a_text_body() -> None:
    response = Response(body=Body("plain"), generators={"body": {"$.id": {"type": "RandomInt"}}})
    assert apply_generators(response, SEEDED).body.value == "plain"


def test_wildcard_over_array_elements_and_object_fields() -> None:
    response = Response(
        body=Body({"items": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}),
        generators={"body": {"$.items[*].id": {"type": "Uuid", "format": "simple"}}},
    )
    ids = [item["id"] for item in apply_generators(response, SEEDED).body.value["items"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in ids) and len(set(ids)) == 3
    star = Response(
        body=Body({"a": 1, "b": 2}), generators={"body": {"$.*": {"type": "RandomInt", "min": 5, "max": 5}}}
    )
    assert apply_generators(star, SEEDED).body.value == {"a": 5, "b": 5}


def test_header_generator_writes_text_values() -> None:
    response = Response(
        headers={"location": ["/jobs/1"], "X-Count": ["3"]},
        generators={
            "header": {
                "Location": {"type": "ProviderState", "expression": "/jobs/${id}"},
                "X-COUNT": {"type": "RandomInt", "min": 8, "max": 8},
                "X-Absent": {"type": "RandomInt"},
            }
        },
    )
    result = apply_generators(response, STATE)
    assert result.headers == {"location": ["/jobs/42"], "X-Count": ["8"]}


def test_status_generator_from_provider_state() -> None:
    response = Response(status=200, generators={"status": {"": {"type": "ProviderState", "expression": "${code}"}}})
    assert apply_generators(response, GeneratorContext(provider_state_params={"code": "202"})).status == 202
    assert apply_generators(response, GeneratorContext()).status == 200


def test_generator_errors_name_their_location() -> None:
    response = Response(body=Body({"id": "x"}), generators={"body": {"$.id": {"type": "Regex", "regex": "(?=x)"}}})
    with pytest.raises(ValueError, match=r"body generator '\$\.id'"):
        apply_generators(response, SEEDED)
