"""Uploads to pre-signed URLs over the in-memory store: keys, replacement, quotas and reads that race a write."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from app.domain import services
from app.domain.errors import Changed, Invalid, NotFound, QuotaExceeded

from .conftest import POLICY, START, at
from .memory_store import MemoryStore


@pytest.fixture
def job(store: MemoryStore) -> int:
    """A registered job (id 123) with one run (id 978)."""
    job_id = services.register_job(store, POLICY, [], START).id
    services.submit_runs(store, POLICY, [{"jobId": job_id}], None, START)
    return job_id


def put(store: MemoryStore, job_id: int, key: str, data: bytes, content_type: str | None = None) -> None:
    """PUT bytes to the URL of (job, key) under the default policy."""
    services.store_upload(store, POLICY, job_id, key, data, content_type, START)


def test_upload_urls_name_the_job_or_one_of_its_runs(store: MemoryStore, job: int) -> None:
    assert services.upload_key(store, job, "job", "input", None) == "job_input"
    assert services.upload_key(store, job, "run", "config", 978) == "run_978_config"
    with pytest.raises(Invalid, match='"runId" is required'):
        services.upload_key(store, job, "run", "input", None)
    other = services.register_job(store, POLICY, [], START).id
    with pytest.raises(NotFound, match="run 978 does not exist for job 124"):
        services.upload_key(store, other, "run", "input", 978)
    with pytest.raises(NotFound, match="job 999"):
        services.upload_key(store, 999, "job", "input", None)


@pytest.mark.parametrize("key", ["job_input", "job_config", "run_978_input", "run_978_config"])
def test_the_four_kinds_of_key_are_stored_and_read_back(store: MemoryStore, job: int, key: str) -> None:
    put(store, job, key, b"hello", "text/plain")
    upload = services.upload_of(store, job, key)
    assert (upload.key, upload.size, upload.content_type, upload.uploaded_ts) == (key, 5, "text/plain", START)
    assert upload.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert services.upload_chunk(store, upload, 1, 3) == b"ell"
    assert services.upload_chunk(store, upload, 4, 100) == b"o"


@pytest.mark.parametrize(
    "key", ["job_output", "../job_input", "job_input/x", "run_x_input", "run_" + "9" * 20 + "_input"]
)
def test_keys_outside_the_four_kinds_are_refused(store: MemoryStore, job: int, key: str) -> None:
    with pytest.raises(NotFound, match="keys are job_input, job_config"):
        put(store, job, key, b"x")
    assert services.uploads_of(store, job) == []


def test_a_run_key_must_name_a_run_of_that_job(store: MemoryStore, job: int) -> None:
    with pytest.raises(NotFound, match="run 979"):
        put(store, job, "run_979_input", b"x")
    other = services.register_job(store, POLICY, [], START).id
    with pytest.raises(NotFound, match="run 978 does not exist for job 124"):
        put(store, other, "run_978_input", b"x")


def test_uploads_to_an_unknown_job_are_not_found(store: MemoryStore) -> None:
    for job_id in (999, 0, 2**63):
        with pytest.raises(NotFound):
            put(store, job_id, "job_input", b"x")
    assert store.contents().uploads == {}


def test_a_second_upload_under_a_key_replaces_the_first(store: MemoryStore, job: int) -> None:
    put(store, job, "job_input", b"first version")
    put(store, job, "job_config", b"{}", "application/json")
    put(store, job, "job_input", b"second", "text/plain")
    listed = services.uploads_of(store, job)
    assert [(u.key, u.size, u.content_type) for u in listed] == [
        ("job_config", 2, "application/json"),
        ("job_input", 6, "text/plain"),
    ]
    upload = services.upload_of(store, job, "job_input")
    assert services.upload_chunk(store, upload, 0, 100) == b"second"


def test_reading_an_upload_replaced_since_it_was_looked_up_is_refused(store: MemoryStore, job: int) -> None:
    put(store, job, "job_input", b"first version")
    looked_up = services.upload_of(store, job, "job_input")
    put(store, job, "job_input", b"second version")
    with pytest.raises(Changed, match="replaced while being read"):
        services.upload_chunk(store, looked_up, 0, 5)


def test_an_upload_never_made_is_not_found(store: MemoryStore, job: int) -> None:
    with pytest.raises(NotFound, match="'job_input' of job 123"):
        services.upload_of(store, job, "job_input")


def test_the_per_job_quota_refuses_an_upload_and_keeps_what_was_there(store: MemoryStore, job: int) -> None:
    policy = replace(POLICY, max_job_upload_bytes=10)
    services.store_upload(store, policy, job, "job_input", b"123456", None, START)
    before = store.contents()
    with pytest.raises(QuotaExceeded) as refused:
        services.store_upload(store, policy, job, "job_config", b"12345", None, at(1))
    assert refused.value.limit == 10
    assert "PACTMOCK_MAX_JOB_UPLOAD_BYTES" in str(refused.value)
    assert store.contents() == before
    # Replacing an upload counts only the new bytes: the old ones go.
    services.store_upload(store, policy, job, "job_input", b"1234567890", None, at(1))
    assert services.upload_of(store, job, "job_input").size == 10


def test_the_total_quota_counts_every_jobs_uploads(store: MemoryStore, job: int) -> None:
    policy = replace(POLICY, max_total_upload_bytes=8)
    other = services.register_job(store, POLICY, [], START).id
    services.store_upload(store, policy, job, "job_input", b"12345", None, START)
    with pytest.raises(QuotaExceeded, match="PACTMOCK_MAX_TOTAL_UPLOAD_BYTES") as refused:
        services.store_upload(store, policy, other, "job_input", b"1234", None, START)
    assert refused.value.limit == 8
    assert services.uploads_of(store, other) == []
    services.store_upload(store, policy, other, "job_input", b"123", None, START)
    assert services.upload_of(store, other, "job_input").size == 3


def test_a_content_type_longer_than_the_column_is_invalid(store: MemoryStore, job: int) -> None:
    with pytest.raises(Invalid, match="Content-Type is 256 characters"):
        put(store, job, "job_input", b"x", "t" * 256)
    put(store, job, "job_input", b"x", "t" * 255)
    assert services.upload_of(store, job, "job_input").content_type == "t" * 255
