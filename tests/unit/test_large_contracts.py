"""Large pacts: read as a stream, indexed, compiled on first use, with matchers shared."""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path
from typing import Any

import pytest

from app.contract.match.compare import match_request
from app.contract.model import Body, Request
from app.contract.read import jsonstream
from app.contract.read.jsonstream import Element, JsonSyntaxError, Member, NotAnObject, read_members
from app.contract.read.loader import load_pacts
from app.contract.read.normalize import normalize_rules
from app.contract.serve.router import Router
from tests.support import synthetic


@pytest.fixture
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window of a few bytes, so every value of a small test document crosses its end somewhere."""
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 7)
    monkeypatch.setattr(jsonstream, "_MARGIN_CHARS", 3)


def members(text: str) -> list[Member | Element]:
    return list(read_members(io.BytesIO(text.encode("utf-8")), "interactions"))


# ---------------------------------------------------------------------------
# The streaming reader
# ---------------------------------------------------------------------------

DOCUMENT = (
    '{"consumer": {"name": "wëb ✓"},\n "interactions": [\n'
    '  {"description": "ünïcode ✓ 🎉", "n": 12345},\n'
    '  [1, 2.5e3, true, null, "x"],\n'
    '  -7\n ],\n "metadata": {"v": [1, {"a": "b"}]}, "count": 1234567}\n'
)


@pytest.mark.parametrize("window", ["default", "small"])
def test_members_and_elements_come_in_file_order_with_their_byte_ranges(
    window: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if window == "small":
        monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 5)
        monkeypatch.setattr(jsonstream, "_MARGIN_CHARS", 2)
    found = members(DOCUMENT)
    assert [type(item).__name__ for item in found] == ["Member", "Member", "Element", "Element", "Element"] + [
        "Member",
        "Member",
    ]
    expected = json.loads(DOCUMENT)
    assert {m.key: m.value for m in found if isinstance(m, Member) and m.key != "interactions"} == {
        k: v for k, v in expected.items() if k != "interactions"
    }
    data = DOCUMENT.encode("utf-8")
    elements = [e for e in found if isinstance(e, Element)]
    assert [e.value for e in elements] == expected["interactions"]
    # Each element's bytes, read back alone, are that element (multi-byte characters before and inside).
    assert [json.loads(data[e.offset : e.offset + e.length]) for e in elements] == expected["interactions"]


def test_a_number_cut_by_the_window_is_read_whole(small_window: None) -> None:
    found = members('{"interactions": [1234567890123, 98765.4321e-2], "n": 1234567890}')
    assert [e.value for e in found if isinstance(e, Element)] == [1234567890123, 98765.4321e-2]
    assert found[-1] == Member("n", 1234567890)


def test_an_empty_or_absent_streamed_array_and_a_streamed_name_that_is_no_array() -> None:
    assert members('{"interactions": []}') == [Member("interactions", [])]
    assert members('{"consumer": {}}') == [Member("consumer", {})]
    assert members('{"interactions": {"a": 1}}') == [Member("interactions", {"a": 1})]
    assert members("{}") == []


BROKEN = [
    "",
    "   ",
    "{",
    '{"a" 1}',
    '{"a": 1,}',
    '{"a": 1 "b": 2}',
    '{"interactions": [1, 2,]}',
    '{"interactions": [1 2]}',
    '{"interactions": [{"x": tru}]}',
    '{"interactions": [1, 2',
    '{"a": "unterminated}',
    '{"a": 1}}',
    '{"a": 1} x',
    '{\n  "consumer": {"name": "web"},\n  "provider" {"name": "api"}\n}',
    '{"interactions": [\n {"a": 1},\n {"b": [1, 2,, 3]}\n]}',
    '{"a": "ü✓"\n , "b": [1, 2, }',
    "[1,",
    "nul",
]


@pytest.mark.parametrize("text", BROKEN)
@pytest.mark.parametrize("window", ["default", "small"])
def test_syntax_errors_name_the_same_line_and_column_as_json_loads(
    text: str, window: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if window == "small":
        monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 3)
        monkeypatch.setattr(jsonstream, "_MARGIN_CHARS", 2)
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(JsonSyntaxError) as found:
        members(text)
    assert (found.value.reason, found.value.line, found.value.column) == (
        expected.value.msg,
        expected.value.lineno,
        expected.value.colno,
    )


@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "42", "null"])
def test_valid_json_that_is_not_an_object_is_told_apart(text: str) -> None:
    with pytest.raises(NotAnObject):
        members(text)


# ---------------------------------------------------------------------------
# Loading as an index
# ---------------------------------------------------------------------------

COUNT = 60


@pytest.fixture
def synthetic_dir(tmp_path: Path) -> Path:
    synthetic.write_pact(tmp_path / "pacts", COUNT)
    return tmp_path / "pacts"


def probe_request(index: int, count: int = COUNT) -> Request:
    """The request the synthetic interaction ``index`` of a pact of ``count`` describes, with its own example values."""
    raw = synthetic.interaction(index, count)["request"]
    headers = {name: list(values) for name, values in raw["headers"].items()}
    body = Body(json.dumps(raw["body"]["content"]).encode(), "application/json") if "body" in raw else Body()
    return Request(method=raw["method"], path=raw["path"], query=raw.get("query", {}), headers=headers, body=body)


def test_an_indexed_pact_compiles_every_interaction_as_a_whole_load_does(synthetic_dir: Path) -> None:
    whole = load_pacts(synthetic_dir)
    indexed = load_pacts(synthetic_dir, compile_lazily_from=1)
    assert whole.problems == indexed.problems == []
    assert len(indexed.interactions) == COUNT
    for eager, lazy in zip(whole.interactions, indexed.interactions, strict=True):
        assert (lazy.description, lazy.method, lazy.path, lazy.state_names) == (
            eager.description,
            eager.method,
            eager.path,
            eager.state_names,
        )
        assert lazy.request == eager.request
        assert lazy.response == eager.response
        assert lazy.contract is indexed.contracts[0]


def test_a_small_pact_is_compiled_whole_even_when_large_ones_are_indexed(synthetic_dir: Path) -> None:
    loaded = load_pacts(synthetic_dir, compile_lazily_from=COUNT + 1)
    assert all(i.parts() is i.parts() for i in loaded.interactions)  # held, not looked up in a cache


@pytest.mark.parametrize("index", [0, 1, 10, COUNT // 2, COUNT - 1])
def test_an_indexed_pact_routes_each_request_to_its_interaction(synthetic_dir: Path, index: int) -> None:
    loaded = load_pacts(synthetic_dir, compile_lazily_from=1)
    router = Router(loaded.interactions)
    result = router.route(probe_request(index), frozenset())
    assert result.interaction is loaded.interactions[index], result.mismatches
    assert result.interaction.response.status == 200


def test_compiled_interactions_kept_are_bounded(synthetic_dir: Path) -> None:
    loaded = load_pacts(synthetic_dir, compile_lazily_from=1, compiled_kept=4)
    router = Router(loaded.interactions)
    for index in [*range(COUNT), *range(COUNT)]:  # kept from the second use (CompiledCache)
        assert router.route(probe_request(index), frozenset()).interaction is loaded.interactions[index]
    source = loaded.interactions[0]._source
    assert source is not None
    cache = source.cache  # type: ignore[attr-defined]
    assert cache.lookup.cache_info().currsize == 4
    # One evicted long ago is compiled again, the same as before.
    again = loaded.interactions[3]
    assert router.route(probe_request(3), frozenset()).interaction is again
    assert again.request == load_pacts(synthetic_dir).interactions[3].request


V4 = {"pactSpecification": {"version": "4.0"}}


def broken_pact(tmp_path: Path) -> Path:
    interactions = [synthetic.interaction(i, 10) for i in range(10)]
    interactions[4]["request"]["matchingRules"]["header"]["Authorization"] = {"matchers": ["not an object"]}
    interactions[6]["response"]["body"] = {"content": "%%%", "contentType": "image/png", "encoded": "base64"}
    document = {"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": interactions, "metadata": V4}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_whole_load_rejects_a_file_with_a_broken_interaction(tmp_path: Path) -> None:
    loaded = load_pacts(broken_pact(tmp_path))
    assert loaded.contracts == []
    (problem,) = loaded.problems
    description = synthetic.interaction(4, 10)["description"]
    assert problem.reason == f"interaction 4 ({description!r}): a matcher must be an object, not 'not an object'"


def test_an_indexed_broken_interaction_answers_with_its_problem_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = broken_pact(tmp_path)
    loaded = load_pacts(path, compile_lazily_from=1)
    assert loaded.problems == []
    router = Router(loaded.interactions)
    request = probe_request(4, 10)
    with caplog.at_level(logging.ERROR, logger="app.contract"):
        first = router.route(request, frozenset())
        second = router.route(request, frozenset())
    assert first.interaction is second.interaction is loaded.interactions[4]
    broken = first.interaction
    assert broken.problem is not None and "a matcher must be an object" in broken.problem
    # The engine keeps the reason; the web layer answers it as a 500 broken-interaction problem.
    assert broken.response.status == 500
    description = synthetic.interaction(4, 10)["description"]
    assert broken.problem.startswith(f"{path}: interaction 4 ({description!r}): ")
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    # The interactions around it are served as usual; the base64 one is broken too, and says why.
    assert router.route(probe_request(5, 10), frozenset()).interaction is loaded.interactions[5]
    assert "not valid base64" in (loaded.interactions[6].problem or "")


def test_a_sound_candidate_beats_a_broken_one_on_the_same_route(tmp_path: Path) -> None:
    good = synthetic.interaction(2, 10)
    bad = json.loads(json.dumps(good))
    bad["description"] = "the same route, broken"
    bad["request"]["matchingRules"]["query"] = {"page": {"matchers": [7]}}
    document = {"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [bad, good], "metadata": V4}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = load_pacts(path, compile_lazily_from=1)
    router = Router(loaded.interactions)
    request = Request(
        method="GET",
        path=good["request"]["path"],
        query={"page": ["1"], "size": ["20"]},
        headers={k: list(v) for k, v in good["request"]["headers"].items()},
    )
    assert router.route(request, frozenset()).interaction is loaded.interactions[1]
    request.headers["Authorization"] = ["Basic nope"]  # the sound one no longer matches: the broken one answers
    assert router.route(request, frozenset()).interaction is loaded.interactions[0]


def test_a_pact_renamed_over_after_loading_is_still_served_as_loaded(synthetic_dir: Path) -> None:
    path = synthetic.pact_path(synthetic_dir, COUNT)
    loaded = load_pacts(path, compile_lazily_from=1)
    replacement = path.with_suffix(".new")
    replacement.write_text('{"consumer": {"name": "other"}}', encoding="utf-8")
    replacement.replace(path)
    router = Router(loaded.interactions)
    assert router.route(probe_request(7), frozenset()).interaction is loaded.interactions[7]
    assert loaded.interactions[7].problem is None


def test_a_pact_rewritten_in_place_after_loading_is_reported_not_misread(synthetic_dir: Path) -> None:
    path = synthetic.pact_path(synthetic_dir, COUNT)
    loaded = load_pacts(path, compile_lazily_from=1)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"description":"a ', '"description":"the '), encoding="utf-8")
    assert "restart the mock" in (loaded.interactions[7].problem or "")


THIRD = synthetic.interaction(3, 10)["description"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda doc: doc["interactions"][3].pop("request"), f"interaction 3 ({THIRD!r}) has no request"),
        (lambda doc: doc["interactions"][3].update(description=""), "interaction 3 has no description"),
        (lambda doc: doc.pop("consumer"), "has no consumer name"),
    ],
)
def test_an_indexed_file_is_rejected_for_what_routing_needs(tmp_path: Path, change: Any, reason: str) -> None:
    document = {"consumer": {"name": "c"}, "provider": {"name": "p"}}
    document["interactions"] = [synthetic.interaction(i, 10) for i in range(10)]
    change(document)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    for lazily in (None, 1):
        loaded = load_pacts(path, compile_lazily_from=lazily)
        assert [p.reason for p in loaded.problems] == [reason]


def test_metadata_after_the_interactions_still_sets_the_specification(synthetic_dir: Path) -> None:
    text = synthetic.pact_path(synthetic_dir, COUNT).read_text(encoding="utf-8")
    assert text.index('"metadata"') > text.index('"interactions"')
    (contract,) = load_pacts(synthetic_dir, compile_lazily_from=1).contracts
    assert contract.spec == "V4"
    # A V4 body ({content, contentType, encoded}) is only understood as V4.
    assert contract.interactions[1].request.body.value == synthetic.interaction(1, COUNT)["request"]["body"]["content"]


# ---------------------------------------------------------------------------
# Shared matchers
# ---------------------------------------------------------------------------


def test_equal_matchers_and_rule_lists_are_one_object() -> None:
    rules = normalize_rules(
        {
            "header": {
                "A": {"matchers": [{"match": "regex", "regex": "^x$"}]},
                "B": {"matchers": [{"regex": "^x$", "match": "regex"}]},
            },
            "body": {"$.a": {"matchers": [{"match": "type"}]}, "$.b": {"match": "type"}},
        },
        "V4",
    )
    assert rules["header"]["A"] is rules["header"]["B"]
    assert rules["body"]["$.a"] is rules["body"]["$.b"]
    other = normalize_rules({"header": {"A": {"matchers": [{"match": "regex", "regex": "^x$"}]}}}, "V4")
    assert other["header"]["A"] is rules["header"]["A"]


def test_matchers_that_only_look_equal_are_kept_apart() -> None:
    rules = normalize_rules({"body": {"$.a": {"match": "type", "min": 1}, "$.b": {"match": "type", "min": True}}}, "V4")
    assert rules["body"]["$.a"].matchers[0]["min"] is not True
    assert rules["body"]["$.b"].matchers[0]["min"] is True
    with_values = normalize_rules({"body": {"$.a": {"match": "values", "values": [1, 2]}}}, "V4")
    assert with_values["body"]["$.a"].matchers[0]["values"] == [1, 2]


def test_a_shared_matcher_still_judges_each_request_on_its_own() -> None:
    loaded_rules = normalize_rules({"body": {"$.n": {"match": "integer"}}}, "V4")
    expected = Request(method="POST", path="/x", body=Body({"n": 1}, "application/json"), rules=loaded_rules)
    good = Request(method="POST", path="/x", body=Body(b'{"n": 5}', "application/json"))
    bad = Request(method="POST", path="/x", body=Body(b'{"n": "5"}', "application/json"))
    assert match_request(expected, good) == []
    assert [m.path for m in match_request(expected, bad)] == ["$.n"]


def test_an_indexed_interaction_json_reads_but_msgspec_refuses_compiles_as_a_whole_load_does(tmp_path: Path) -> None:
    # Read on a miss by msgspec, falling back to json where msgspec refuses the text (index.decoded): NaN, a
    # number past a float's range and a lone surrogate are read as json reads them, the interaction still served.
    text = (
        '{"consumer": {"name": "c"}, "provider": {"name": "p"}, "metadata": {"pactSpecification": {"version": "3.0.0"}},'
        ' "interactions": [{"description": "odd numbers", "request": {"method": "GET", "path": "/odd"},'
        ' "response": {"status": 200, "body": {"nan": NaN, "huge": 1e400, "lone": "\\ud800", "plain": 1.5}}}]}'
    )
    (tmp_path / "odd.json").write_text(text, encoding="utf-8")
    whole, indexed = load_pacts(tmp_path), load_pacts(tmp_path, compile_lazily_from=1)
    assert whole.problems == indexed.problems == []
    body = indexed.interactions[0].response.body.value
    assert body["huge"] == math.inf and math.isnan(body["nan"]) and body["lone"] == "\ud800" and body["plain"] == 1.5
    assert repr(body) == repr(whole.interactions[0].response.body.value)
