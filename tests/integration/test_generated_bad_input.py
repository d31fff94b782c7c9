"""Bad input to a generated collection paged by an opaque cursor, on a real server over SQLite and PostgreSQL:
a page token from a mock with another seed, a token that is not one, a limit over the maximum and an unknown
id are each a 4xx problem+json, and none of them changes what the collection answers afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.support.collection_pact import collection_pact, kind, regex
from tests.support.mock_process import RunningMock

JOB = {"id": "job-0001", "name": "nightly", "state": "QUEUED"}
MODEL = """\
version: 1
seed: {seed}
collections:
  jobs:
    path: /api/jobs
    item: /api/jobs/{{id}}
    id: {{field: id, strategy: prefixed, prefix: job-, width: 4, start: 1}}
    envelope: jobs
    total: total
    generated:
      count: 5000
    page: {{style: cursor, default: 20, max: 100}}
"""
CLOCK = {"action": "freeze", "at": "2030-01-01T00:00:00Z"}
PROBLEM = "application/problem+json"


def write_example(folder: Path, seed: int) -> Path:
    """A V3 pact of a job list paged by `cursor` and `limit`, and a job read; its model file with `seed`."""
    folder.mkdir(parents=True, exist_ok=True)
    rules = {"id": "^job-[0-9]+$", "state": "^(QUEUED|RUNNING|DONE)$"}
    pact = collection_pact(
        "Jobs",
        path="/api/jobs",
        envelope="jobs",
        item=JOB,
        item_rules={k: regex(v) for k, v in rules.items()},
        query={"cursor": ("", regex("^[A-Za-z0-9_=-]*$")), "limit": ("20", regex(r"^\d+$"))},
        extra={"total": (1, kind("integer")), "next": ("token", kind("type"))},
        read_path="/api/jobs/job-0001",
        read_regex=r"^/api/jobs/[A-Za-z0-9-]+$",
    )
    (folder / "UI-Jobs.json").write_text(json.dumps(pact))
    (folder / "UI-Jobs.model.yaml").write_text(MODEL.format(seed=seed))
    return folder


def jobs(mock: RunningMock, cursor: str = "", limit: str = "20") -> requests.Response:
    return requests.get(f"{mock.url}/api/jobs", params={"cursor": cursor, "limit": limit}, timeout=10)


def assert_problem(answer: requests.Response, status: int, words: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith(PROBLEM), answer.headers
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status and words in problem["detail"], problem
    return problem


def test_a_token_from_another_seed_and_other_bad_input_are_refused_and_change_nothing(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(write_example(tmp_path / "seed-11", 11), DATABASE_URL=database_url)
    other = run_mock(write_example(tmp_path / "seed-12", 12))
    for server in (mock, other):
        requests.post(server.url + "/_mock/clock", json=CLOCK, timeout=10).raise_for_status()
    first = jobs(mock)
    assert first.status_code == 200, first.text
    own_token = first.json()["next"]
    foreign_token = jobs(other).json()["next"]
    assert isinstance(own_token, str) and isinstance(foreign_token, str) and own_token != foreign_token
    second = jobs(mock, own_token).content
    assert [job["id"] for job in json.loads(second)["jobs"]] == [f"job-{n:04d}" for n in range(21, 41)]

    assert_problem(jobs(mock, foreign_token), 400, "another seed")
    assert_problem(jobs(mock, "bm90LWEtdG9rZW4"), 400, "not a page token this mock handed out")
    assert_problem(jobs(mock, limit="101"), 400, '"limit" must be from 1 to 100')
    assert_problem(jobs(mock, limit="0"), 400, '"limit" must be from 1 to 100')
    assert_problem(requests.get(f"{mock.url}/api/jobs/job-5001", timeout=10), 404, "job-5001")
    assert_problem(requests.get(f"{mock.url}/api/jobs/job-x", timeout=10), 404, "job-x")

    # Nothing was stored or moved: the same pages, byte for byte, and the same total.
    assert jobs(mock).content == first.content and jobs(mock, own_token).content == second
    assert json.loads(first.content)["total"] == 5000
