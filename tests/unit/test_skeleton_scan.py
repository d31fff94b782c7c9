"""Pacts read by the fast reader (skeleton.py) load exactly as the streaming reader loads them.

Each file is loaded twice, once as the loader reads it now and once through the streaming
reader alone (jsonstream.py, what the loader used before), and everything a user of the
loaded contract can see is compared: the interactions, their routes, states, pending flag,
compiled request and response (read again from the file at the indexed byte range), the
messages, the warnings, or the error the file is rejected with.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.contract.model import ProviderState, Request, Response
from app.contract.read import loader, skeleton
from app.contract.read.jsonstream import Element, Member, read_members
from app.contract.read.loader import load_pact_file
from app.contract.read.normalize import ContractError

HTTP = "Synchronous/HTTP"
PATH_RULE = {"matchers": [{"match": "regex", "regex": r"^/things/\d+$"}], "combine": "AND"}


def http(description: str, method: str = "GET", path: str = "/things/1", **extra: Any) -> dict[str, Any]:
    return {
        "type": HTTP,
        "description": description,
        "request": {"method": method, "path": path, "headers": {"Accept": ["application/json"]}},
        "response": {"status": 200, "body": {"content": {"name": description}, "contentType": "application/json"}},
        **extra,
    }


def document(interactions: list[Any], metadata_first: bool = False, **extra: Any) -> dict[str, Any]:
    metadata = {"pactSpecification": {"version": "4.0"}}
    head: dict[str, Any] = {"consumer": {"name": "wëb"}, "provider": {"name": "api"}}
    if metadata_first:
        return {"metadata": metadata, **head, "interactions": interactions, **extra}
    return {**head, "interactions": interactions, "metadata": metadata, **extra}


class Readers:
    """Loads a file as the loader does now and as the streaming reader alone does, and says which ran."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self.streamed = 0
        counted = skeleton.read_members

        def counting(*args: Any) -> Iterator[Member | Element]:
            self.streamed += 1
            return counted(*args)

        monkeypatch.setattr(skeleton, "read_members", counting)

    def loaded(self, path: Path, lazily: int | None) -> Any:
        return seen(path, lazily)

    def streaming(self, path: Path, lazily: int | None) -> Any:
        with self._monkeypatch.context() as patch:
            patch.setattr(loader, "read_pact", lambda file: read_members(file, "interactions"))
            return seen(path, lazily)

    def same(self, path: Path) -> tuple[Any, bool]:
        """What loading ``path`` shows, after checking that both readers show it alike; whether it was streamed."""
        self.streamed = 0
        now = {lazily: self.loaded(path, lazily) for lazily in (1, None)}
        fast = self.streamed == 0
        assert now == {lazily: self.streaming(path, lazily) for lazily in (1, None)}
        assert ranges(path, skeleton.read_pact) == ranges(path, lambda file: read_members(file, "interactions"))
        return now[1], fast


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> Readers:
    return Readers(monkeypatch)


class Indexed(NamedTuple):
    position: int | None
    description: str
    method: str
    path: str
    path_rule: Any
    provider_states: list[ProviderState]
    pending: bool
    request: Request
    response: Response
    problem: str | None


class Loaded(NamedTuple):
    consumer: str
    provider: str
    spec: str
    interactions: list[Indexed]
    messages: list[tuple[str, str, list[ProviderState]]]
    warnings: list[str]


def seen(path: Path, lazily: int | None) -> Loaded | tuple[str, str]:
    """Everything the loaded contract shows, or why it was rejected."""
    try:
        contract, warnings = load_pact_file(path, lazily)
    except ContractError as exc:
        return "rejected", str(exc)
    except (TypeError, ValueError) as exc:  # params that are no object crash the loader, whichever reader ran
        return "crashed", repr(exc)
    interactions = [
        Indexed(
            i.position,
            i.description,
            i.method,
            i.path,
            i.path_rule,
            i.provider_states,
            i.pending,
            i.request,  # compiled from the bytes at the indexed range
            i.response,
            i.problem,
        )
        for i in contract.interactions
    ]
    messages = [(m.description, m.kind, m.provider_states) for m in contract.messages]
    return Loaded(contract.consumer, contract.provider, contract.spec, interactions, messages, warnings)


def ranges(path: Path, reader: Any) -> list[tuple[str, Any]]:
    """The members (values as JSON text, so NaN compares) and each interaction's byte range, or what was raised."""
    found: list[tuple[str, Any]] = []
    with path.open("rb") as file:
        try:
            for item in reader(file):
                if isinstance(item, Element):
                    found.append(("element", (item.offset, item.length)))
                else:
                    found.append((item.key, json.dumps(item.value)))
        except ValueError as exc:  # a syntax error, invalid UTF-8, not an object
            found.append(("raised", repr(exc)))
    return found


def written(tmp_path: Path, content: str | bytes | dict[str, Any], **dumps: Any) -> Path:
    path = tmp_path / "pact.json"
    if isinstance(content, dict):
        content = json.dumps(content, **dumps)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


# ---------------------------------------------------------------------------
# Files the fast reader reads
# ---------------------------------------------------------------------------

VARIED = [
    http("ünïcode ✓ 🎉 first", path="/wörld/ü"),
    http("a \"quoted\" \\ back\\slash\n\ttab", method="post", providerStates=[{"name": "it exists", "params": {"n": 1.5}}]),
    http("v2 path rule", providerState="a state", request={"method": "GET", "path": "/things/7", "matchingRules": {"$.path": {"regex": r"/things/\d+"}}}),
    http("v4 path rule", request={"method": "GET", "path": "/things/8", "matchingRules": {"path": PATH_RULE, "body": {"$.a": {"matchers": [{"match": "type"}]}}}}),
    http("both path rules", request={"path": "/x", "matchingRules": {"$.path": {"regex": "/y"}, "path": PATH_RULE}}),
    http("pending", pending=True, provider_state="old style state"),
    {"type": "Asynchronous/Messages", "description": "an event 📨", "contents": {"content": {"id": 1}}},
    {"description": "contents and no type", "contents": {"x": 1}},
    http("no method, no path", request={"headers": {"A": ["b"]}}),
]  # fmt: skip


@pytest.mark.parametrize(
    "dumps",
    [
        {"separators": (",", ":"), "ensure_ascii": False},
        {"indent": 2, "ensure_ascii": False},
        {"indent": "\t", "ensure_ascii": True},  # every non-ASCII character as \u escapes, emoji as surrogate pairs
        {"indent": 1, "separators": (" ,\n ", " :\r\n ")},
    ],
    ids=["compact", "indented", "ascii-escapes", "odd-whitespace"],
)
@pytest.mark.parametrize("metadata_first", [False, True], ids=["metadata-after", "metadata-before"])
def test_varied_pacts_load_alike(readers: Readers, tmp_path: Path, dumps: dict[str, Any], metadata_first: bool) -> None:
    path = written(tmp_path, document(VARIED, metadata_first), **dumps)
    shown, fast = readers.same(path)
    assert fast
    assert (shown.consumer, shown.spec, shown.warnings) == ("wëb", "V4", [])
    assert [(i.description, i.path) for i in shown.interactions][:2] == [
        (VARIED[0]["description"], "/wörld/ü"),
        (VARIED[1]["description"], "/things/1"),
    ]
    assert [i.path_rule is not None for i in shown.interactions] == [False, False, True, True, True, False, False]
    assert [m[0] for m in shown.messages] == ["an event 📨", "contents and no type"]


def test_escaped_keys_and_values_are_read_as_their_text(readers: Readers, tmp_path: Path) -> None:
    text = (
        '{"consum\\u0065r": {"name": "w\\"eb"}, "provider" : {"name":"a\\\\pi"}, "x\\"y\\\\": 1,\n'
        ' "interaction\\u0073" : [ {"descr\\u0069ption": "\\u00e9t\\u00e9 \\ud83c\\udf89", "request": '
        '{"p\\u0061th": "/\\u00fc", "method": "GET"}, "response": {"status": 200}, "fl\\u00e4vour": 1} ] }'
    )
    shown, fast = readers.same(written(tmp_path, text))
    assert fast
    assert (shown.consumer, shown.provider) == ('w"eb', "a\\pi")
    assert [(i.description, i.path) for i in shown.interactions] == [("été 🎉", "/ü")]
    assert sorted(shown.warnings) == [
        f"{tmp_path / 'pact.json'}: unknown field 'flävour' in interaction 0 ('été 🎉') ignored",
        f"{tmp_path / 'pact.json'}: unknown field 'x\"y\\\\' in the pact ignored",
    ]


@pytest.mark.parametrize("array", ["[]", "[ ]", "[\n\r\n]"])
def test_an_empty_interactions_array(readers: Readers, tmp_path: Path, array: str) -> None:
    text = '{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": ' + array + "}"
    shown, fast = readers.same(written(tmp_path, text))
    assert fast
    assert (shown.interactions, shown.messages, shown.warnings) == ([], [], [])


def test_a_messages_only_pact(readers: Readers, tmp_path: Path) -> None:
    messages = [{"description": "thing created", "providerStates": [{"name": "a thing"}], "contents": {"id": 1}}]
    pact = {"consumer": {"name": "c"}, "provider": {"name": "p"}, "messages": messages}
    shown, fast = readers.same(written(tmp_path, pact))
    assert fast
    assert [(m[0], m[1], [s.name for s in m[2]]) for m in shown.messages] == [
        ("thing created", "Asynchronous/Messages", ["a thing"])
    ]


# Numbers too large for a float are written as such (1e400): json.dumps would write Infinity.
TOO_LARGE = "<1e400>"
ODD_BUT_INDEXED = [
    http("unknown fields", flavour="x", request={"method": "GET", "path": "/u", "cookies": "c"}, response={"status": 200, "colour": 1}),
    http("method and path of other types", request={"method": 5, "path": 123456789012345678901234567890}),
    http("numbers beyond float", type=HTTP, pending=TOO_LARGE),
    {**http("type of another type"), "type": 1.5},
    {**http("type too large"), "type": TOO_LARGE},
    http("pending as a number", pending=1),
    http("pending as text", pending="no"),
    http("null state", providerState=None, provider_state="the second spelling"),
    http("states not a list", providerStates="a state"),
    http("states of other things", providerStates=[1, {"name": ""}, {"name": "x", "params": None}, {"params": {}}]),
    http("rules not an object", request={"method": "GET", "path": "/r", "matchingRules": ["path"]}),
    http("a broken path rule", request={"method": "GET", "path": "/b", "matchingRules": {"path": {"matchers": "x"}}}),
    http("a path rule of numbers", request={"path": "/n", "matchingRules": {"path": {"matchers": [{"match": "type", "min": TOO_LARGE}]}}}),
    http("a plugin", type="Synchronous/Plugin"),
    http("a v2 path rule and an unknown field", flavour=1, request={"path": "/v2", "matchingRules": {"$.path": {"regex": "/v2/.*"}}}),
    http("a v4 path rule and an unknown field", flavour=1, request={"path": "/v4", "matchingRules": {"path": PATH_RULE}}),
    http("a body with big numbers", response={"status": 200, "body": [TOO_LARGE, 12345678901234567890123]}),
]  # fmt: skip


def test_fields_of_unusual_types_are_read_as_the_streaming_reader_reads_them(readers: Readers, tmp_path: Path) -> None:
    text = json.dumps(document(ODD_BUT_INDEXED)).replace(json.dumps(TOO_LARGE), "1e400")
    shown, fast = readers.same(written(tmp_path, text))
    assert fast
    by_description = {i.description: i for i in shown.interactions}
    odd = by_description["method and path of other types"]
    assert (odd.method, odd.path) == ("5", "123456789012345678901234567890")
    assert by_description["numbers beyond float"].pending is True
    assert by_description["pending as text"].pending is True
    assert by_description["states of other things"].provider_states == [ProviderState("x")]
    assert by_description["a v2 path rule and an unknown field"].path_rule.matchers == (
        {"match": "regex", "regex": "/v2/.*"},
    )
    assert by_description["a v4 path rule and an unknown field"].path_rule is not None
    assert by_description["a path rule of numbers"].path_rule.matchers == ({"match": "type", "min": math.inf},)
    assert [m[:2] for m in shown.messages if m[0].startswith("type")] == [
        ("type of another type", "1.5"),
        ("type too large", "inf"),
    ]
    assert any("'colour'" in w for w in shown.warnings) and any("'cookies'" in w for w in shown.warnings)


def test_repeated_keys_inside_an_interaction_keep_the_last_value(readers: Readers, tmp_path: Path) -> None:
    text = (
        '{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"description": 1, '
        '"description": "twice", "request": 7, "request": {"method": "PUT", "path": "/1", "path": "/2"}, '
        '"response": {"status": 200}}, {"description": "usual", "request": {"method": "GET", "path": "/a"}, '
        '"description": "usual twice", "request": {"path": "/b"}, "response": {}}]}'
    )
    shown, fast = readers.same(written(tmp_path, text))
    assert fast
    assert [(i.description, i.method, i.path) for i in shown.interactions] == [
        ("twice", "PUT", "/2"),
        ("usual twice", "GET", "/b"),
    ]


# Each of these is rejected for what indexing reads; the reason must be the one given today.
REJECTED = {
    "request not an object": [http("a"), http("b", request=["GET", "/x"])],
    "response a list": [http("a", response=[200])],
    "description a number": [http("a"), {**http("b"), "description": 12}],
    "description empty": [{**http("b"), "description": ""}],
    "no response": [{"description": "x", "request": {"method": "GET", "path": "/"}}],
    "element not an object": [http("a"), "an interaction?"],
    "element an array": [[http("a")]],
}


@pytest.mark.parametrize("interactions", REJECTED.values(), ids=REJECTED.keys())
def test_interactions_of_the_wrong_shape_are_rejected_alike(
    readers: Readers, tmp_path: Path, interactions: list[Any]
) -> None:
    shown, fast = readers.same(written(tmp_path, document(interactions), indent=1, ensure_ascii=False))
    assert fast
    assert shown[0] == "rejected"


@pytest.mark.parametrize("value", ["{}", '{"a": []}', "null", "7", '"x"'])
def test_interactions_that_are_no_array(readers: Readers, tmp_path: Path, value: str) -> None:
    text = '{"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": ' + value + "}"
    shown, fast = readers.same(written(tmp_path, text))
    assert fast
    assert shown[0] == "rejected"


# ---------------------------------------------------------------------------
# Files left to the streaming reader
# ---------------------------------------------------------------------------

HEAD = '{"consumer": {"name": "c"}, "provider": {"name": "p"}, '
ONE = json.dumps([http("one")])
LEFT_TO_STREAMING = {
    "NaN": HEAD + '"interactions": ' + ONE + ', "metadata": {"n": NaN}}',
    "Infinity": HEAD + '"interactions": ' + ONE + ', "metadata": {"x": -Infinity}}',
    "lone surrogate": HEAD + '"interactions": [{"description": "\\ud800", "request": {}, "response": {}}]}',
    "two interactions arrays": HEAD + '"interactions": ' + ONE + ', "interactions": [' + json.dumps(http("two")) + "]}",
    "an array, then an object": HEAD + '"interactions": ' + ONE + ', "interactions": {}}',
    "two consumers": HEAD + '"interactions": ' + ONE + ', "consumer": {"name": "d"}}',
    "same key written two ways": HEAD + '"interactions": ' + ONE + ', "interaction\\u0073": ' + ONE + "}",
}  # fmt: skip


@pytest.mark.parametrize("text", LEFT_TO_STREAMING.values(), ids=LEFT_TO_STREAMING.keys())
def test_what_msgspec_reads_differently_is_read_by_the_streaming_reader(
    readers: Readers, tmp_path: Path, text: str
) -> None:
    _, fast = readers.same(written(tmp_path, text))
    assert not fast


def test_two_interactions_arrays_both_count_as_before(readers: Readers, tmp_path: Path) -> None:
    shown, _ = readers.same(written(tmp_path, LEFT_TO_STREAMING["two interactions arrays"]))
    assert [i.description for i in shown.interactions] == ["one", "two"]


BAD = {
    "missing colon": ('{\n  "consumer": {"name": "web"},\n  "provider" {"name": "api"}\n}', "line 3 column 14"),
    "cut short": (HEAD + '"interactions": [' + json.dumps(http("é")), "line 1 column"),
    "late syntax error": (HEAD + '"interactions": ' + ONE + ',\n "metadata": {"a": 1,}}', "line 2 column 22"),
    "trailing data": (HEAD + '"interactions": []} {}', "Extra data"),
    "control character": (HEAD + '"interactions": [{"description": "a\tb"}]}', "Invalid control character"),
    "bad escape": (HEAD + '"interactions": [{"description": "a\\qb"}]}', r"Invalid \escape at line 1 column 91"),
    "BOM": ("\ufeff" + HEAD + '"interactions": []}', "line 1 column 1"),
    "empty": ("", "Expecting value at line 1 column 1"),
    "not an object": ("[" + ONE + "]", "the top level is not a JSON object"),
    "invalid UTF-8": (HEAD.encode() + b'"interactions": [{"description": "\xff"}]}', "cannot be read"),
    "encoded surrogate": (HEAD.encode() + b'"x": "\xed\xa0\x80", "interactions": []}', "cannot be read"),
}  # fmt: skip


@pytest.mark.parametrize(("content", "reason"), BAD.values(), ids=BAD.keys())
def test_bad_files_are_rejected_with_todays_reason(
    readers: Readers, tmp_path: Path, content: str | bytes, reason: str
) -> None:
    shown, fast = readers.same(written(tmp_path, content))
    assert not fast
    assert shown[0] == "rejected"
    assert reason in shown[1]


def test_a_syntax_error_names_its_line_and_column(tmp_path: Path) -> None:
    path = written(tmp_path, BAD["missing colon"][0])
    with pytest.raises(ContractError) as raised:
        load_pact_file(path)
    assert str(raised.value) == "is not valid JSON: Expecting ':' delimiter at line 3 column 14"


# ---------------------------------------------------------------------------
# Any pact
# ---------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_rules = st.dictionaries(
    st.sampled_from(["path", "$.path", "body", "header"]),
    st.sampled_from([PATH_RULE, {"regex": "/a"}, {"matchers": [{"match": "type"}]}]) | _json,
    max_size=3,
)
_states = st.lists(st.fixed_dictionaries({"name": st.text(max_size=4)}, optional={"params": _json}), max_size=2)
# Interactions of the usual shape (every value of the type pact writers give it) and of any shape.
_usual = st.fixed_dictionaries(
    {"description": st.text(min_size=1, max_size=8)},
    optional={
        "type": st.sampled_from([HTTP, "Asynchronous/Messages", "Synchronous/Plugin"]),
        "request": st.fixed_dictionaries(
            {},
            optional={
                "method": st.sampled_from(["GET", "post"]),
                "path": st.sampled_from(["/a", "/ü/✓"]),
                "matchingRules": _rules,
                "headers": _json,
            },
        ),
        "response": st.fixed_dictionaries({}, optional={"status": _json, "body": _json}),
        "pending": st.booleans(),
        "providerStates": _states,
        "providerState": st.text(max_size=4),
        "provider_state": st.text(max_size=4),
        "contents": _json,
        "transport": _json,
    },
)
_any = st.fixed_dictionaries(
    {},
    optional={
        "description": st.text(min_size=1, max_size=8) | _json,
        "type": st.sampled_from([HTTP, "Asynchronous/Messages"]) | _json,
        "request": st.fixed_dictionaries(
            {},
            optional={
                "method": st.sampled_from(["GET", "post"]) | _json,
                "path": st.sampled_from(["/a", "/ü/✓"]) | _json,
                "matchingRules": _rules | _json,
                "cookies": _json,
            },
        )
        | _json,
        "response": st.fixed_dictionaries({}, optional={"status": _json, "extra": _json}) | _json,
        "pending": _json,
        "providerStates": _states | _json,
        "providerState": _json,
        "provider_state": _json,
        "contents": _json,
        "flavour": _json,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    interactions=st.lists(_usual | _any | _json, max_size=4),
    indent=st.sampled_from([None, 0, 2]),
    ensure_ascii=st.booleans(),
)
def test_any_pact_loads_alike(
    readers: Readers, tmp_path: Path, interactions: list[Any], indent: int | None, ensure_ascii: bool
) -> None:
    readers.same(written(tmp_path, document(interactions), indent=indent, ensure_ascii=ensure_ascii))


def test_a_file_over_the_fast_readings_size_is_streamed_alike(
    readers: Readers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written(tmp_path, document([http(f"thing {n}", path=f"/things/{n}") for n in range(50)]))
    _, fast = readers.same(path)
    assert fast
    monkeypatch.setattr(skeleton, "MAX_FAST_BYTES", path.stat().st_size - 1)
    _, fast = readers.same(path)
    assert not fast
