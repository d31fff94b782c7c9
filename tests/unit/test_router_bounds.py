"""Crafted long paths cost the router memory and time linear in their length (issue 20, finding 2), and what
a refusal logs is clipped (finding 6)."""

from __future__ import annotations

import json
import logging
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.contract.model import MISSING, Body, Request
from app.contract.read.loader import parse_pact
from app.contract.serve.router import Router
from app.settings import Settings
from app.store import migrate

LONG_PATH = "/a" * 30_000  # 60 KB: the old router built one prefix string per "/", about 0.9 GB


def router_of(*paths: tuple[str, str | None]) -> Router:
    interactions = []
    for number, (path, regex) in enumerate(paths):
        request: dict[str, Any] = {"method": "PUT", "path": path}
        if regex is not None:
            request["matchingRules"] = {"path": {"matchers": [{"match": "regex", "regex": regex}]}}
        interactions.append({"description": f"i{number}", "request": request, "response": {"status": 200}})
    document = {"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": interactions}
    contract, _ = parse_pact(document, "bounds.json")
    return Router(contract.interactions)


def put(path: str) -> Request:
    return Request("PUT", path, {}, {}, Body(MISSING))


def test_routing_a_60kb_path_of_slashes_holds_memory_linear_in_its_length() -> None:
    # "/a/.*" accepts any depth, so the path is not refused early: the bucket walk itself is measured.
    router = router_of(("/jobs/1", None), ("/jobs/2", r"/jobs/\d+"), ("/a/x", r"/a/.*"), ("/b/x", r"/b/[^/]+/c"))
    tracemalloc.start()
    try:
        result = router.route(put(LONG_PATH))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.interaction is not None and result.interaction.description == "i2"
    assert peak < 20 * len(LONG_PATH), f"routing a {len(LONG_PATH)}-character path peaked at {peak} bytes"


def test_a_path_deeper_than_any_served_interaction_is_refused_before_routing() -> None:
    router = router_of(("/jobs/1", None), ("/jobs/2", r"/jobs/\d+"), ("/s3/up/1/k", r"/s3/up/[^/]+/[^/]+"))
    assert router.most_slashes == 4
    result = router.route(put(LONG_PATH))
    assert result.interaction is None and result.closest is None and not result.suggestions
    assert result.too_deep == (
        "the path has 30000 segments and no served interaction allows more than 4, so nothing can match it"
    )
    # As deep as a served path: routed (and answered) as usual.
    assert router.route(put("/s3/up/7/key")).interaction is not None
    assert router.route(put("/s3/up/7/key/x")).too_deep is not None


def test_a_path_rule_that_is_not_a_regex_bounds_nothing() -> None:
    document = {
        "consumer": {"name": "c"},
        "provider": {"name": "p"},
        "interactions": [
            {
                "description": "any path",
                "request": {
                    "method": "PUT",
                    "path": "/x",
                    "matchingRules": {"path": {"matchers": [{"match": "type"}]}},
                },
                "response": {"status": 200},
            }
        ],
    }
    contract, _ = parse_pact(document, "t")
    router = Router(contract.interactions)
    assert router.route(put(LONG_PATH)).interaction is not None


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder: Path = tmp_path_factory.mktemp("bounds")
    (folder / "pacts").mkdir()
    interactions = [
        {
            "description": "a job",
            "request": {"method": "GET", "path": "/jobs/1", "query": {"q": ["1"]}},
            "response": {"status": 200},
        },
        {
            "description": "a file",
            "request": {
                "method": "GET",
                "path": "/files/a",
                "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": "/files/[^/]+"}]}},
            },
            "response": {"status": 200},
        },
    ]
    pact = {
        "consumer": {"name": "c"},
        "provider": {"name": "Bounded"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    (folder / "pacts" / "bounded.json").write_text(json.dumps(pact))
    url = f"sqlite:///{folder / 'bounds.sqlite3'}"
    migrate.upgrade(url)
    yield create_app(replace(Settings.from_env({}), pact_dir=str(folder / "pacts"), database_url=url))


def test_a_long_unknown_path_is_logged_clipped(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    path = "/nowhere/" + "x" * 60_000
    with caplog.at_level(logging.INFO, logger="app.web.dispatch"):
        answer = app.test_client().get(path)
    assert answer.status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "app.web.dispatch"]
    assert lines and all(len(line) < 1000 for line in lines)
    assert "[59709 more characters]" in lines[0]
    assert len(answer.get_json()["detail"]) < 1000


def test_a_long_query_in_a_refusal_is_logged_clipped(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.web.dispatch"):
        answer = app.test_client().get("/jobs/1?q=1&" + "z" * 60_000 + "=1")
    assert answer.status_code == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "app.web.dispatch"]
    assert len(lines) == 1 and len(lines[0]) < 2000 and "more characters]" in lines[0]


def test_a_deep_path_gets_a_404_that_says_why(app: Flask) -> None:
    answer = app.test_client().get("/jobs" * 1 + "/1" * 5000)
    assert answer.status_code == 404
    assert answer.get_json()["detail"].startswith("the path has 5001 segments")
