"""The user an Offline-Token names, and what a job's owner may do that others may not."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from app.domain import services
from app.domain.errors import Forbidden
from app.domain.lifecycle import Durations
from app.domain.model import MAX_ID, Policy
from app.domain.users import user_of_token

from .memory_store import MemoryStore

DEFAULT = 456
NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = Policy(DEFAULT, Durations(1, 1, 1))


def bearer(claims: object, *, urlsafe: bool = False, padded: bool = False) -> str:
    raw = json.dumps(claims).encode()
    encoded = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()
    return "Bearer " + (encoded if padded else encoded.rstrip("="))


@pytest.mark.parametrize(
    "token",
    [
        bearer({"user_id": 7001}),
        bearer({"user_id": 7001}, padded=True),
        bearer({"user_id": 7001, "name": "ü?>>>~~~"}, urlsafe=True),
    ],
)
def test_a_bearer_token_of_base64_json_names_its_user(token: str) -> None:
    assert user_of_token(token, DEFAULT) == 7001


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "Bearer secret-token",
        "bearer " + bearer({"user_id": 7001})[7:],
        "Bearer " + base64.b64encode(b"not json").decode(),
        bearer([7001]),
        bearer({"user_id": "7001"}),
        bearer({"user_id": True}),
        bearer({"user_id": 0}),
        bearer({"user_id": MAX_ID + 1}),
        bearer({"user": 7001}),
        "Bearer " + "A" * 5000,
        "Bearer " + base64.b64encode(b"[" * 100_000).decode(),
    ],
)
def test_any_other_token_is_the_default_user(token: str | None) -> None:
    assert user_of_token(token, DEFAULT) == DEFAULT


def test_another_users_job_is_forbidden_and_nothing_is_written() -> None:
    store = MemoryStore()
    job = services.register_job(store, POLICY, ["t"], NOW, caller=7001)
    assert job.user_id == 7001
    before = store.contents()
    request = {"jobId": job.id, "size": "hot"}
    with pytest.raises(Forbidden, match=f"job {job.id} belongs to another user"):
        services.submit_runs(store, POLICY, [request], None, NOW, caller=7002)
    with pytest.raises(Forbidden):
        services.runs_of(store, POLICY, job.id, NOW, caller=7002)
    with pytest.raises(Forbidden):
        services.upload_key(store, job.id, "job", "input", None, caller=DEFAULT)
    assert store.contents() == before
    [run] = services.submit_runs(store, POLICY, [request], None, NOW, caller=7001)
    assert run.user_id == 7001
    assert [r.id for r in services.runs_of(store, POLICY, job.id, NOW, caller=7001).runs] == [run.id]
