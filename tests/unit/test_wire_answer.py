"""A stub answer made without werkzeug (app/web/wire_answer.py) is the one werkzeug makes, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

from app.contract.model import MISSING, Body, Response
from app.contract.read.loader import load_pact_file
from app.web.cors import add_cors
from app.web.dispatch import to_flask
from app.web.wire_answer import wire_answer

ROOT = Path(__file__).resolve().parents[2]
PACTS = sorted([*ROOT.glob("pacts/*.json"), *ROOT.glob("tests/corpus/*.json"), *ROOT.glob("examples/*/*.json")])
ORIGINS = (None, "*", "https://app.example")


def _werkzeug_way(response: Response, allow: str | None) -> tuple[str, list[tuple[str, str]], bytes]:
    made = to_flask(response)
    add_cors(made.headers, allow)
    environ = EnvironBuilder(path="/").get_environ()
    return made.status, made.get_wsgi_headers(environ).to_wsgi_list(), made.get_data()


def _responses() -> list[tuple[str, Response]]:
    found = []
    for path in PACTS:
        contract, _ = load_pact_file(path)
        for interaction in contract.interactions:
            if interaction.problem is None and not any(interaction.response.generators.values()):
                found.append((f"{path.name}: {interaction.description}", interaction.response))
    return found


def _made(
    status: int, headers: dict[str, list[str]], value: object = MISSING, content_type: str | None = None
) -> Response:
    return Response(status=status, headers=headers, body=Body(value, content_type), rules={}, generators={})


# Shapes the pacts above may lack: headers werkzeug replaces or merges, bodies of each kind; and the answers left
# to werkzeug (False): statuses it strips or has no reason for, headers it rewrites or refuses.
MADE = [
    ("content-length of its own", _made(200, {"content-length": ["2"]}, "hi", "text/plain"), True),
    ("type in lower case", _made(200, {"content-type": ["application/json"]}, {"a": 1}, "application/json"), True),
    ("a header twice in two cases", _made(201, {"X-A": ["1"], "x-a": ["2", "3"]}, [1, 2]), True),
    ("vary of its own", _made(200, {"Vary": ["Accept"]}, "x", "text/plain"), True),
    ("bytes", _made(200, {}, b"\x00\x01", None), True),
    ("text", _made(200, {}, "<html></html>", None), True),
    ("no body", _made(202, {"X-Id": ["7"]}), True),
    ("a status werkzeug has no reason for", _made(299, {}, "x", "text/plain"), False),
    ("no content", _made(204, {"X-Id": ["7"]}), False),
    ("not modified", _made(304, {"ETag": ['"1"']}), False),
    ("informational", _made(103, {}), False),
    ("a location", _made(201, {"Location": ["/things/ä"]}, {"id": 1}), False),
    ("a newline in a value", _made(200, {"X-Bad": ["a\nb"]}, "x", "text/plain"), False),
]


@pytest.mark.parametrize("allow", ORIGINS)
def test_every_stub_answer_of_the_served_pacts_is_made_as_werkzeug_makes_it(allow: str | None) -> None:
    responses = _responses()
    assert len(responses) > 100  # the pacts were found and read
    simple = 0
    for where, response in responses:
        made = wire_answer(response, allow)
        if made is not None:
            simple += 1
            assert made == _werkzeug_way(response, allow), where
    assert simple > 0.9 * len(responses)  # the common answer does take the simple way


@pytest.mark.parametrize(("what", "response", "simple"), MADE, ids=[what for what, _, _ in MADE])
@pytest.mark.parametrize("allow", ORIGINS)
def test_answers_of_every_shape_are_made_as_werkzeug_makes_them_or_left_to_it(
    what: str, response: Response, simple: bool, allow: str | None
) -> None:
    made = wire_answer(response, allow)
    if simple:
        assert made == _werkzeug_way(response, allow)
    else:
        assert made is None
