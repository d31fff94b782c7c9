"""A stateful answer carries every key of its interaction's response example (issue 14, part 5).

A consumer's contract may hold keys the domain does not model: they come from the example, with its
generators applied, while every key the handler gives keeps the handler's value.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from app import create_app
from app.settings import Settings
from app.store import migrate
from tests.support.epx import EPX_HEADERS, run_request

PACTS = Path(__file__).resolve().parents[2] / "pacts"


def _with_unmodelled_keys(pact: dict[str, Any]) -> dict[str, Any]:
    for interaction in pact["interactions"]:
        response = interaction["response"]
        description = interaction["description"]
        if description == "a request to register an info job":
            content = response["body"]["content"]
            content["plan"] = "free"
            content["links"] = {"self": "https://api.example.org/jobs/123", "owner": "ops"}
            content["created"] = "2024-01-01T00:00:00Z"
            response.setdefault("generators", {})["body"] = {
                "$.created": {"type": "DateTime", "format": "yyyy-MM-dd'T'HH:mm:ss'Z'"}
            }
            created_rule = {"matchers": [{"match": "regex", "regex": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"}]}
            response.setdefault("matchingRules", {}).setdefault("body", {})["$.created"] = created_rule
        if description.startswith("a request for the runs of job 123 while"):
            response["body"]["content"]["runs"][0]["url"] = "https://results.example.org/978.zip"
    return pact


@pytest.fixture
def client(tmp_path: Path) -> Client:
    pact_dir = tmp_path / "pacts"
    pact_dir.mkdir()
    pact = _with_unmodelled_keys(json.loads((PACTS / "epx-epistemix.json").read_text()))
    (pact_dir / "epx-epistemix.json").write_text(json.dumps(pact))
    url = f"sqlite:///{tmp_path / 'shaped.sqlite3'}"
    migrate.upgrade(url)
    return Client(create_app(replace(Settings.from_env({}), pact_dir=str(pact_dir), database_url=url)))


def test_keys_the_domain_does_not_model_come_from_the_example(client: Client) -> None:
    first = client.post("/jobs/register", data=json.dumps({"tags": ["mine"]}), headers=EPX_HEADERS)
    second = client.post("/jobs/register", data=json.dumps({"tags": []}), headers=EPX_HEADERS)
    assert first.status_code == second.status_code == 200, first.get_data(as_text=True)
    job, other = first.get_json(), second.get_json()
    # The handler's keys are the handler's: the stored job, not the example's.
    assert (job["id"], job["tags"], other["id"], other["tags"]) == (123, ["mine"], 124, [])
    # The others are the example's, nested objects whole, generators applied (a date of today, not 2024's).
    assert job["plan"] == "free" and job["links"] == {"self": "https://api.example.org/jobs/123", "owner": "ops"}
    assert (
        re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", job["created"])
        and job["created"] != "2024-01-01T00:00:00Z"
    )


def test_each_item_of_a_list_gets_the_keys_of_the_examples_item(client: Client) -> None:
    client.post("/jobs/register", data=json.dumps({"tags": []}), headers=EPX_HEADERS)
    submitted = client.post(
        "/runs", data=json.dumps({"runRequests": [run_request(123), run_request(123)]}), headers=EPX_HEADERS
    )
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    listed = client.get("/runs?job_id=123", headers=EPX_HEADERS)
    runs = listed.get_json()["runs"]
    assert [run["id"] for run in runs] == [978, 979]
    assert all(run["url"] == "https://results.example.org/978.zip" for run in runs)
    assert all(run["status"] == "NOT_STARTED" for run in runs)
