"""The Epistemix and S3 hooks driven through `HookCall`s over the in-memory store: the JSON a client reads."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from app.domain.errors import Invalid, NotFound
from app.providers.epistemix import BINDINGS
from app.providers.epistemix import handlers as epistemix
from app.providers.registry import Answer, HookCall, Registry

from .conftest import POLICY, START, USER_ID, at
from .memory_store import MemoryStore

BASE_URL = "http://mock.test:5000"


def call(store: MemoryStore, body: Any = None, seconds: float = 0, **parts: Any) -> HookCall:
    """A request as the web layer hands it over: JSON body, query, headers (lower-case names), path parameters."""
    return HookCall(
        moment=lambda: at(seconds),
        body=body,
        query=parts.get("query", {}),
        path=parts.get("path", {}),
        store=store,
        policy=POLICY,
        headers=parts.get("headers", {}),
        data=parts.get("data", b""),
        content_type=parts.get("content_type"),
        base_url=BASE_URL,
    )


def register(store: MemoryStore, tags: list[Any] | None = None) -> Answer:
    """POST /jobs/register."""
    return epistemix.register_job(call(store, {} if tags is None else {"tags": tags}))


def list_runs(store: MemoryStore, job_id: str, seconds: float = 0) -> Answer:
    """GET /runs?job_id=..."""
    return epistemix.list_runs(call(store, seconds=seconds, query={"job_id": [job_id]}))


def test_register_answers_the_job_as_the_api_shows_it(store: MemoryStore) -> None:
    answer = register(store, ["covid", {"k": 1}])
    assert (answer.status, answer.json) == (200, {"id": 123, "userId": USER_ID, "tags": ["covid", {"k": 1}]})
    assert register(store).json == {"id": 124, "userId": USER_ID, "tags": []}


@pytest.mark.parametrize("body", [None, [], "tags", {"tags": "covid"}, {"tags": {"a": 1}}])
def test_register_refuses_a_body_it_cannot_use(store: MemoryStore, body: Any) -> None:
    with pytest.raises(Invalid):
        epistemix.register_job(call(store, body))
    assert store.contents().jobs == {}


def test_submitting_answers_one_response_per_request_in_order(store: MemoryStore) -> None:
    register(store)
    requests = [{"jobId": 123, "size": "hot"}, {"jobId": 123, "size": "cold"}]
    answer = epistemix.submit_runs(call(store, {"runRequests": requests}))
    assert answer.status == 200
    assert answer.json == {
        "runResponses": [
            {"runId": 978, "jobId": 123, "status": "Submitted", "errors": None, "runRequest": requests[0]},
            {"runId": 979, "jobId": 123, "status": "Submitted", "errors": None, "runRequest": requests[1]},
        ]
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"runRequests": {"jobId": 123}},
        {"runRequests": [123]},
        {"runRequests": [{"size": "hot"}]},
        {"runRequests": [{"jobId": "123"}]},
        {"runRequests": [{"jobId": True}]},
        {"runRequests": [{"jobId": 123.0}]},
    ],
)
def test_submitting_refuses_bodies_that_do_not_name_jobs_by_integer(store: MemoryStore, body: Any) -> None:
    register(store)
    with pytest.raises(Invalid):
        epistemix.submit_runs(call(store, body))
    assert store.contents().runs == {}


def test_listing_shows_every_field_of_a_run_and_the_total(store: MemoryStore) -> None:
    register(store)
    request = {"jobId": 123, "size": "hot"}
    headers = {"user-agent": "epx_client_1.4.2"}
    epistemix.submit_runs(call(store, {"runRequests": [request]}, headers=headers))
    answer = list_runs(store, "123", seconds=3.5)
    assert answer.status == 200
    assert answer.headers == {"X-Total-Count": "1"}
    assert answer.json == {
        "runs": [
            {
                "id": 978,
                "jobId": 123,
                "userId": USER_ID,
                "createdTs": "2026-01-01T12:00:00.000Z",
                "request": request,
                "podPhase": "Running",
                "containerStatus": None,
                "status": "RUNNING",
                "userDeleted": False,
                "epxClientVersion": "1.4.2",
            }
        ]
    }


def test_the_client_version_also_comes_from_the_fredcli_header(store: MemoryStore) -> None:
    register(store)
    headers = {"user-agent": "python-requests/2.31", "fredcli-version": "0.9"}
    epistemix.submit_runs(call(store, {"runRequests": [{"jobId": 123}]}, headers=headers))
    epistemix.submit_runs(call(store, {"runRequests": [{"jobId": 123}]}, headers={"user-agent": "curl/8"}))
    runs = list_runs(store, "123").json["runs"]
    assert [run["epxClientVersion"] for run in runs] == ["0.9", None]


def test_pod_phase_follows_the_lifecycle(store: MemoryStore) -> None:
    register(store)
    epistemix.submit_runs(call(store, {"runRequests": [{"jobId": 123}]}))
    seen = []
    for seconds in (0, 1, 3, 6):
        [run] = list_runs(store, "123", seconds).json["runs"]
        seen.append((run["status"], run["podPhase"]))
    assert seen == [("NOT_STARTED", "Pending"), ("QUEUED", "Pending"), ("RUNNING", "Running"), ("DONE", "Succeeded")]


@pytest.mark.parametrize("raw", ["", "abc", "12a", "-1", "1.0", "\u0661\u0662\u0663"])
def test_listing_refuses_a_job_id_that_is_not_ascii_digits(store: MemoryStore, raw: str) -> None:
    with pytest.raises(Invalid, match="query parameter job_id"):
        list_runs(store, raw)


@pytest.mark.parametrize("raw", ["0", "999", "0000000123" + "0" * 20, "9" * 40])
def test_listing_the_runs_of_a_job_id_that_names_no_job_is_not_found(store: MemoryStore, raw: str) -> None:
    register(store)
    with pytest.raises(NotFound):
        list_runs(store, raw)


def test_leading_zeros_name_the_same_job(store: MemoryStore) -> None:
    register(store)
    assert list_runs(store, "000123").json == {"runs": []}


def test_the_upload_url_points_at_the_mocks_s3_route(store: MemoryStore) -> None:
    register(store)
    epistemix.submit_runs(call(store, {"runRequests": [{"jobId": 123}]}))
    job_url = epistemix.upload_url(call(store, {"jobId": 123, "context": "job", "type": "input"}))
    run_url = epistemix.upload_url(call(store, {"jobId": 123, "context": "run", "type": "config", "runId": 978}))
    assert job_url.json == {"url": f"{BASE_URL}/s3/uploads/123/job_input"}
    assert run_url.json == {"url": f"{BASE_URL}/s3/uploads/123/run_978_config"}


@pytest.mark.parametrize(
    "body",
    [
        {"jobId": "123", "context": "job", "type": "input"},
        {"jobId": 123, "context": "task", "type": "input"},
        {"jobId": 123, "context": "job", "type": "output"},
        {"jobId": 123, "context": "run", "type": "input", "runId": "978"},
        {"jobId": 123, "context": "run", "type": "input"},
    ],
)
def test_the_upload_url_refuses_bodies_it_cannot_use(store: MemoryStore, body: dict[str, Any]) -> None:
    register(store)
    with pytest.raises(Invalid):
        epistemix.upload_url(call(store, body))


def test_put_upload_answers_as_s3_does_and_keeps_the_bytes(store: MemoryStore) -> None:
    register(store)
    data = b"population = US_2010.v5\n"
    answer = epistemix.put_upload(
        call(store, data=data, content_type="text/plain", path={"job_id": "123", "key": "job_input"})
    )
    assert (answer.status, answer.data) == (200, b"")
    assert answer.headers == {
        "ETag": f'"{hashlib.md5(data).hexdigest()}"',
        "x-pactmock-sha256": hashlib.sha256(data).hexdigest(),
    }
    [(upload, kept)] = store.contents().uploads.values()
    assert (upload.key, upload.content_type, upload.uploaded_ts, kept) == ("job_input", "text/plain", START, data)


def test_put_upload_refuses_a_url_whose_job_id_is_not_digits(store: MemoryStore) -> None:
    with pytest.raises(Invalid, match="upload URL's job id"):
        epistemix.put_upload(call(store, data=b"x", path={"job_id": "12x", "key": "job_input"}))


def test_the_registry_routes_each_epistemix_and_s3_route_to_the_hook_it_names() -> None:
    registry = Registry(BINDINGS)

    def hook_of(provider: str, method: str, path: str) -> object:
        binding = registry.binding_for(provider, method, path)
        return None if binding is None else binding.hook

    assert hook_of("Epistemix", "POST", "/jobs/register") is epistemix.register_job
    assert hook_of("Epistemix", "POST", "/jobs") is epistemix.upload_url
    assert hook_of("Epistemix", "GET", "/runs") is epistemix.list_runs
    assert hook_of("S3", "PUT", "/s3/uploads/123/job_input") is epistemix.put_upload
    assert registry.find("S3", "PUT", "/s3/uploads/123/job_input") is not None
    assert registry.find("S3", "PUT", "/s3/uploads/123/job_input")[1] == {"job_id": "123", "key": "job_input"}
    assert registry.find("Epistemix", "DELETE", "/runs") is None
    assert registry.find("Somebody else", "POST", "/runs") is None


def test_a_routed_hook_answers_through_the_binding_as_the_web_layer_calls_it(store: MemoryStore) -> None:
    found = Registry(BINDINGS).find("Epistemix", "POST", "/jobs/register")
    assert found is not None
    handler, params = found
    answer = handler(call(store, {"tags": ["a"]}, path=params))
    assert (answer.status, answer.json) == (200, {"id": 123, "userId": USER_ID, "tags": ["a"]})
    # The journal names the hook, not the binding's wrapper.
    assert (handler.__module__, handler.__qualname__) == ("app.providers.epistemix.handlers", "register_job")
