"""Consumer side of the Teraslice example: the pact ts-topy 0.5.1 holds with a Teraslice master, from its client.

Each session drives ts-topy's own `TerasliceClient` and pydantic models (through `teraslice_walk.walk`,
the monitor's refresh and detail view) against pact-python's mock server in one provider state, so every
interaction is what that client sends and every answer is one its models parse. The sessions merge into
`ts-topy-Teraslice.json`, and the last test checks that the committed examples/teraslice file is exactly
that contract (`PACT_UPDATE=1` rewrites it; `PACT_OUTPUT_DIR` names another folder, see example_recording.py).

The bodies follow Teraslice's JSON API docs (docs/management-apis/endpoints-json.md in terascope/teraslice).
Matchers cover what a stateful provider varies: job and execution ids (UUIDs), execution statuses (the 13 of
Teraslice's `ExecutionStatus`, also ts-topy's status filter list), job lifecycles, dates, every counter, and
lists (at least one item). ts-topy sends no POST at all: the `POST /v1/data/refresh` of issue 17 exists only
in ts-topy's own FastAPI mock server, so it is not in this pact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pact import Pact, match
from ts_topy.client import TerasliceClient

from .example_recording import DATETIME, JSON, Session, check_in, committed_folder, exactly, one_of, record
from .teraslice_walk import PAGE_SIZE, walk

CONSUMER = "ts-topy"
PROVIDER = "Teraslice"
PACT_FILE = f"{CONSUMER}-{PROVIDER}.json"

# Teraslice's execution statuses, in lifecycle order: initial, running, terminal.
EXECUTION_STATUSES = (
    "pending",
    "scheduling",
    "initializing",
    "running",
    "recovering",
    "failing",
    "paused",
    "stopping",
    "completed",
    "stopped",
    "rejected",
    "failed",
    "terminated",
)
LIFECYCLES = ("once", "persistent")
WORKER_ASSIGNMENTS = ("cluster_master", "execution_controller", "worker")

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
JOB_ID = "6c1a4f2e-3b8d-4e51-9a07-2f9d8c4b1e30"
SECOND_JOB_ID = "b2e95d07-41c6-4f8a-8d13-5a7c0e6f2b94"
EX_ID = "0f7e2b9a-5c41-4d8e-b6a3-91e4d2c7f058"
MISSING_ID = "00000000-0000-4000-8000-000000000000"

# The one provider state with data: the model file loads (or generates) this cluster for it.
CLUSTER = "a cluster with jobs and executions"


def at(example: str) -> Any:
    """A date-time as Teraslice writes it (`Z` on stored documents, an offset on slicer stats): any value."""
    return match.regex(example, regex=DATETIME)


def uuid(example: str) -> Any:
    """A job or execution id: a lower-case UUID."""
    return match.regex(example, regex=f"^{UUID}$")


def item_path(collection: str, item_id: str) -> Any:
    """The path of one job or execution: any id."""
    return match.regex(f"/v1/{collection}/{item_id}", regex=f"^/v1/{collection}/{UUID}$")


def page_number(example: int) -> Any:
    """A `size` or `from` query value: a non-negative integer, `example` in the pact."""
    return match.regex(str(example), regex=r"^\d+$")


def worker() -> dict[str, Any]:
    """One process on a node, as ts-topy's `Worker` reads it."""
    return {
        "worker_id": match.int(1),
        "assignment": one_of("execution_controller", WORKER_ASSIGNMENTS),
        "pid": match.int(36801),
    }


def node() -> dict[str, Any]:
    """A node of the cluster, as ts-topy's `Node` reads it."""
    return {
        "node_id": match.str("ts-worker-01"),
        "hostname": match.str("10.2.0.14"),
        "pid": match.int(36733),
        "node_version": match.str("v22.11.0"),
        "teraslice_version": match.str("2.11.0"),
        "total": match.int(8),
        "state": match.str("connected"),
        "available": match.int(5),
        "active": match.each_like(worker(), min=1),
    }


def operation(name: str) -> Any:
    """A job's list of operations: each names its `_op` (ts-topy counts them)."""
    return match.each_like({"_op": match.str(name)}, min=1)


def job(job_id: str, *, name: str = "kafka-to-es", created: str = "2024-02-14T09:30:12.481Z") -> dict[str, Any]:
    """A job document, as ts-topy's `Job` reads it (and its detail view shows it)."""
    return {
        "job_id": uuid(job_id),
        "name": match.str(name),
        "lifecycle": one_of("persistent", LIFECYCLES),
        "workers": match.int(4),
        "operations": operation("kafka_reader"),
        "active": match.bool(True),
        "_context": exactly("job"),
        "_created": at(created),
        "_updated": at("2024-05-01T11:42:07.905Z"),
    }


def slicer_stats() -> dict[str, Any]:
    """An execution's `_slicer_stats`: its counters and the time its slicer started (`SlicerStats`)."""
    counters = {
        "workers_active": 4,
        "workers_joined": 4,
        "workers_available": 0,
        "workers_reconnected": 0,
        "workers_disconnected": 0,
        "queued": 4,
        "processed": 412,
        "failed": 0,
        "subslices": 0,
        "subslice_by_key": 0,
        "slice_range_expansion": 0,
        "slicers": 1,
        "job_duration": 0,
    }
    return {
        **{key: match.int(value) for key, value in counters.items()},
        "started": at("2024-05-01T04:42:15.660-07:00"),
    }


def execution(status: Any) -> dict[str, Any]:
    """An execution context, as ts-topy's `ExecutionContext` reads it: its job's settings and its own state."""
    return {
        "ex_id": uuid(EX_ID),
        "job_id": uuid(JOB_ID),
        "name": match.str("kafka-to-es"),
        "lifecycle": one_of("persistent", LIFECYCLES),
        "analytics": match.bool(True),
        "max_retries": match.int(3),
        "probation_window": match.int(300000),
        "slicers": match.int(1),
        "workers": match.int(4),
        "operations": operation("kafka_reader"),
        "_context": exactly("ex"),
        "_status": status,
        "_has_errors": match.bool(False),
        "_created": at("2024-05-01T11:42:08.120Z"),
        "_updated": at("2024-05-01T11:59:55.317Z"),
        "slicer_hostname": match.str("10.2.0.14"),
        "slicer_port": match.int(45680),
        "_slicer_stats": slicer_stats(),
    }


def controller() -> dict[str, Any]:
    """The execution controller of a live execution and its slice counters (`Controller`)."""
    counters = slicer_stats()
    del counters["job_duration"]  # /v1/cluster/controllers does not report it
    return {"ex_id": uuid(EX_ID), "job_id": uuid(JOB_ID), "name": match.str("kafka-to-es"), **counters}


def not_found(what: str) -> dict[str, Any]:
    """Teraslice's error answer (`ErrorResponse` of its JS client): the status again and a message."""
    return {"error": match.int(404), "message": match.str(f"Could not find {what} {MISSING_ID}")}


def declare_cluster(pact: Pact) -> None:
    """With a cluster running a job: every read the monitor makes, and a second page of jobs."""
    (
        pact.upon_receiving("a request for the cluster state")
        .given(CLUSTER)
        .with_request("GET", "/v1/cluster/state")
        .will_respond_with(200)
        .with_body(match.each_value_matches({"ts-worker-01": node()}, rules=match.like(node())), JSON)
    )
    (
        pact.upon_receiving("a request for the execution controllers")
        .given(CLUSTER)
        .with_request("GET", "/v1/cluster/controllers")
        .will_respond_with(200)
        .with_body(match.each_like(controller(), min=1), JSON)
    )
    (
        pact.upon_receiving(f"a request for the first {PAGE_SIZE} jobs")
        .given(CLUSTER)
        .with_request("GET", "/v1/jobs")
        .with_query_parameter("size", page_number(PAGE_SIZE))
        .will_respond_with(200)
        .with_body(match.each_like(job(JOB_ID), min=1), JSON)
    )
    (
        pact.upon_receiving("a request for one job from offset 1")
        .given(CLUSTER)
        .with_request("GET", "/v1/jobs")
        .with_query_parameter("size", page_number(1))
        .with_query_parameter("from", page_number(1))
        .will_respond_with(200)
        .with_body(
            match.each_like(job(SECOND_JOB_ID, name="es-reindex", created="2023-11-03T16:05:41.009Z"), min=1, max=1),
            JSON,
        )
    )
    (
        pact.upon_receiving(f"a request for job {JOB_ID}")
        .given(CLUSTER)
        .with_request("GET", item_path("jobs", JOB_ID))
        .will_respond_with(200)
        .with_body(job(JOB_ID), JSON)
    )
    (
        pact.upon_receiving(f"a request for the first {PAGE_SIZE} executions")
        .given(CLUSTER)
        .with_request("GET", "/v1/ex")
        .with_query_parameter("size", page_number(PAGE_SIZE))
        .will_respond_with(200)
        .with_body(match.each_like(execution(one_of("running", EXECUTION_STATUSES)), min=1), JSON)
    )
    (
        pact.upon_receiving(f"a request for execution {EX_ID}")
        .given(CLUSTER)
        .with_request("GET", item_path("ex", EX_ID))
        .will_respond_with(200)
        .with_body(execution(one_of("running", EXECUTION_STATUSES)), JSON)
    )


def use_cluster(base_url: str) -> None:
    """The monitor's refresh and an execution's detail view (the walk), then the second page of jobs."""
    seen = walk(base_url)
    nodes = seen["cluster_state"].nodes
    assert (list(nodes), nodes["ts-worker-01"].total, seen["cluster_state"].active_workers) == (["ts-worker-01"], 8, 1)
    assert [(c.ex_id, c.workers_active, c.processed) for c in seen["controllers"]] == [(EX_ID, 4, 412)]
    assert [(j.job_id, j.lifecycle, len(j.operations), j.context) for j in seen["jobs"]] == [
        (JOB_ID, "persistent", 1, "job")
    ]
    [shown] = seen["executions"]
    assert (shown.ex_id, shown.status, shown.slicer_stats and shown.slicer_stats.processed) == (EX_ID, "running", 412)
    assert (seen["execution"]["_status"], seen["execution"]["job_id"]) == ("running", JOB_ID)
    assert (seen["job"]["job_id"], seen["job"]["_context"]) == (JOB_ID, "job")
    with TerasliceClient(base_url) as client:
        assert [j.job_id for j in client.fetch_jobs(size=1, from_=1)] == [SECOND_JOB_ID]


def declare_without_state(pact: Pact) -> None:
    """Whatever exists: an execution and a job that do not (a row whose item has gone, clicked)."""
    for collection, what in (("ex", "execution context"), ("jobs", "job")):
        (
            pact.upon_receiving(f"a request for {what} {MISSING_ID}, which does not exist")
            .with_request("GET", item_path(collection, MISSING_ID))
            .will_respond_with(404)
            .with_body(not_found(what), JSON)
        )


def use_without_state(base_url: str) -> None:
    """The detail view of a vanished execution and job: ts-topy's client raises the 404."""
    with TerasliceClient(base_url) as client:
        for fetch in (client.fetch_execution_context_by_id, client.fetch_job_by_id):
            with pytest.raises(httpx.HTTPStatusError) as missing:
                fetch(MISSING_ID)
            assert missing.value.response.status_code == 404


SESSIONS = {
    CLUSTER: Session(declare_cluster, use_cluster),
    "no provider state": Session(declare_without_state, use_without_state),
}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_session(name: str, tmp_path: Path) -> None:
    """ts-topy gets what its models parse from the mock server, and sends exactly the declared requests."""
    record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)


def test_committed_pact_is_the_recorded_one(tmp_path: Path) -> None:
    """examples/teraslice/ts-topy-Teraslice.json is exactly what the sessions record (recorded afresh here)."""
    for name in sorted(SESSIONS):
        record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)
    check_in(tmp_path / PACT_FILE, committed_folder("teraslice") / PACT_FILE)
