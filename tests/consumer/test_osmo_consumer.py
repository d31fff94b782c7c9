"""Consumer side of the OSMO example: the pact the OSMO UI backend holds with the OSMO workflow API.

Each session drives `OsmoClient` (the UI backend's code) against pact-python's mock server in one provider
state, so every interaction is what the client really sends. The sessions merge into `OsmoUI-OSMO.json`,
and the last test checks that the committed examples/osmo/OsmoUI-OSMO.json is exactly that contract
(`PACT_UPDATE=1` rewrites it; `PACT_OUTPUT_DIR` names another folder, see example_recording.py).

The statuses are NVIDIA OSMO's own (src/utils/job/workflow.py WorkflowStatus, src/utils/job/task.py
TaskGroupStatus, src/utils/connectors/postgres.py PoolStatus and BackendResourceType, the data service's
DatasetType and DatasetStatus), each matched by a regex alternation of all of its values, so a generated
collection takes its enum from the pact. Every list is `{"<items>": [...], "total", "offset", "limit"}`
and its `offset` and `limit` query parameters match any whole number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pact import Pact, match

from .example_recording import (
    DATETIME,
    EXAMPLE_TIME,
    JSON,
    Session,
    check_in,
    committed_folder,
    exactly,
    one_of,
    problem_content_type,
    record,
    timestamp,
)
from .osmo_client import OsmoClient, OsmoError

CONSUMER = "OsmoUI"
PROVIDER = "OSMO"
PACT_FILE = f"{CONSUMER}-{PROVIDER}.json"
TOKEN = "test-osmo-ui"
TEXT = "text/plain"

WORKFLOW_STATUSES = (
    "PENDING",
    "RUNNING",
    "WAITING",
    "COMPLETED",
    "FAILED",
    "FAILED_SUBMISSION",
    "FAILED_SERVER_ERROR",
    "FAILED_EXEC_TIMEOUT",
    "FAILED_QUEUE_TIMEOUT",
    "FAILED_CANCELED",
    "FAILED_BACKEND_ERROR",
    "FAILED_IMAGE_PULL",
    "FAILED_EVICTED",
    "FAILED_START_ERROR",
    "FAILED_START_TIMEOUT",
    "FAILED_PREEMPTED",
)
TASK_STATUSES = (
    "SUBMITTING",
    "WAITING",
    "PROCESSING",
    "SCHEDULING",
    "INITIALIZING",
    "RUNNING",
    "COMPLETED",
    "RESCHEDULED",
    "FAILED",
    "FAILED_CANCELED",
    "FAILED_SERVER_ERROR",
    "FAILED_BACKEND_ERROR",
    "FAILED_EXEC_TIMEOUT",
    "FAILED_QUEUE_TIMEOUT",
    "FAILED_IMAGE_PULL",
    "FAILED_UPSTREAM",
    "FAILED_EVICTED",
    "FAILED_START_ERROR",
    "FAILED_START_TIMEOUT",
    "FAILED_PREEMPTED",
)
# OSMO keeps RESCHEDULED for tasks only: a group is never in it.
GROUP_STATUSES = tuple(s for s in TASK_STATUSES if s != "RESCHEDULED")
PRIORITIES = ("HIGH", "NORMAL", "LOW")
POOL_STATUSES = ("ONLINE", "OFFLINE", "MAINTENANCE")
RESOURCE_TYPES = ("RESERVED", "SHARED", "UNUSED")
DATASET_TYPES = ("DATASET", "COLLECTION")
DATASET_STATUSES = ("PENDING", "READY", "PENDING_DELETE", "DELETED")
BUCKET_MODES = ("read-write", "read-only")  # not found in OSMO's source: a clear pair of our own

WORKFLOW = "train-policy-1"  # OSMO names a workflow `<spec name>-<number>`
MISSING_WORKFLOW = "no-such-workflow-999999"
WORKFLOW_UUID = "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b"
TASK = "train"
POOL = "isaac-gpu"
USER = "alice@example.com"
BUCKET = "osmo-datasets"
DATASET = "robot-grasps"

NAME_REGEX = r"[a-z][a-z0-9-]*"
WORKFLOW_REGEX = r"[a-z][a-z0-9-]*-[0-9]+"  # ends in -<number>, so no uuid (32 hex digits) is one
UUID_REGEX = r"[0-9a-f]{32}"
WHOLE_NUMBER = r"^[0-9]+$"
# A moment that may not have come yet (a start or an end): a date-time, or "" (no nulls to match).
MAYBE_TIME = "^(" + DATETIME.strip("^$") + ")?$"

WORKFLOWS_EXIST = "workflows exist"
POOLS_EXIST = "pools exist"
DATA_EXISTS = "buckets and datasets exist"


def headers() -> dict[str, Any]:
    """Every call carries a bearer key; the API accepts any that starts with `test-`."""
    return {"Authorization": match.regex(f"Bearer {TOKEN}", regex=r"^Bearer test-.+$")}


def named(example: str, regex: str = NAME_REGEX) -> Any:
    """A name or id in a body: any value of its shape."""
    return match.regex(example, regex=f"^{regex}$")


def path(template: str, **parts: tuple[str, str]) -> Any:
    """A path with {placeholders}, each given as (example, regex): any values of their shapes."""
    example = template.format(**{k: v[0] for k, v in parts.items()})
    return match.regex(example, regex="^" + template.format(**{k: v[1] for k, v in parts.items()}) + "$")


def workflow_path(suffix: str = "") -> Any:
    """The path of a workflow (or of one of its parts) by name: any workflow name."""
    return path("/api/workflow/{name}" + suffix, name=(WORKFLOW, WORKFLOW_REGEX))


def paged(pact_request: Any) -> Any:
    """The paging query every list takes: any offset, any limit."""
    return pact_request.with_query_parameter("offset", match.regex("0", regex=WHOLE_NUMBER)).with_query_parameter(
        "limit", match.regex("20", regex=WHOLE_NUMBER)
    )


def page(items: str, item: dict[str, Any], total: int = 1) -> dict[str, Any]:
    """A page of a list: its items (each like `item`), the total, and the offset and limit it answers."""
    return {items: match.each_like(item), "total": match.int(total), "offset": match.int(0), "limit": match.int(20)}


def maybe_time(example: str = EXAMPLE_TIME) -> Any:
    """A start or end time: a date-time, or "" while it has not happened."""
    return match.regex(example, regex=MAYBE_TIME)


def workflow_entry(status: Any, *, pool: Any = None, user: Any = None) -> dict[str, Any]:
    """A workflow as the workflows page lists it (OSMO's ListEntry)."""
    return {
        "name": named(WORKFLOW, WORKFLOW_REGEX),
        "workflow_uuid": named(WORKFLOW_UUID, UUID_REGEX),
        "user": user if user is not None else match.str(USER),
        "pool": pool if pool is not None else named(POOL),
        "priority": one_of("NORMAL", PRIORITIES),
        "status": status,
        "submit_time": timestamp(),
        "start_time": maybe_time(),
        "end_time": maybe_time(""),
        "queued_time": match.decimal(12.5),  # seconds
        "duration": match.decimal(3600.5),  # seconds
    }


def workflow_detail() -> dict[str, Any]:
    """One workflow's page (OSMO's WorkflowQueryResponse, groups apart)."""
    entry = workflow_entry(one_of("RUNNING", WORKFLOW_STATUSES))
    return {
        **{k: v for k, v in entry.items() if k not in {"workflow_uuid", "user"}},
        "uuid": named(WORKFLOW_UUID, UUID_REGEX),
        "submitted_by": match.str(USER),
        "backend": named("dgx-cluster"),
        "tags": match.each_like(match.str("nightly")),
        "exec_timeout": match.int(86400),  # seconds
        "queue_timeout": match.int(3600),  # seconds
    }


def group() -> dict[str, Any]:
    """A task group of a workflow (OSMO's GroupQueryResponse, tasks apart)."""
    return {
        "name": named("training"),
        "status": one_of("RUNNING", GROUP_STATUSES),
        "start_time": maybe_time(),
        "end_time": maybe_time(""),
        "failure_message": match.str(""),
    }


def task() -> dict[str, Any]:
    """A task of a workflow (OSMO's TaskQueryResponse and ListTaskEntry)."""
    return {
        "name": named(TASK),
        "group": named("training"),
        "task_uuid": named("0a1b2c3d4e5f40718293a4b5c6d7e8f9", UUID_REGEX),
        "retry_id": match.int(0),
        "status": one_of("RUNNING", TASK_STATUSES),
        "lead": match.bool(True),
        "node_name": match.str("dgx-a100-001"),
        "pod_name": match.str("train-policy-1-train-0"),
        "start_time": maybe_time(),
        "end_time": maybe_time(""),
        "gpu": match.int(8),
        "cpu": match.int(64),
        "memory": match.int(512),  # Gi
        "storage": match.int(200),  # Gi
    }


def capacity(gpu: int, cpu: int, memory: int, storage: int) -> dict[str, Any]:
    """GPUs, CPUs, memory and storage (Gi) of a node: allocatable or in use."""
    return {"gpu": match.int(gpu), "cpu": match.int(cpu), "memory": match.int(memory), "storage": match.int(storage)}


def declare_workflows(pact: Pact) -> None:
    """With workflows: the list and its filters, one workflow by name and by uuid, its parts, its terminal."""

    def request(description: str, method: str, request_path: Any) -> Any:
        return (
            pact.upon_receiving(description)
            .given(WORKFLOWS_EXIST)
            .with_request(method, request_path)
            .with_headers(headers())
        )

    any_status = one_of("RUNNING", WORKFLOW_STATUSES)
    (
        paged(request("a request for a page of workflows", "GET", "/api/workflow"))
        .will_respond_with(200)
        .with_body(page("workflows", workflow_entry(any_status)), JSON)
    )
    (
        paged(request("a request for a page of the running workflows", "GET", "/api/workflow"))
        # The UI's filters offer every status, pool and user.
        .with_query_parameter("statuses", one_of("RUNNING", WORKFLOW_STATUSES))
        .will_respond_with(200)
        .with_body(page("workflows", workflow_entry(any_status)), JSON)
    )
    (
        paged(request(f"a request for a page of the workflows in pool {POOL}", "GET", "/api/workflow"))
        .with_query_parameter("pools", named(POOL))
        .will_respond_with(200)
        .with_body(page("workflows", workflow_entry(any_status, pool=named(POOL))), JSON)
    )
    (
        paged(request(f"a request for a page of the workflows of {USER}", "GET", "/api/workflow"))
        .with_query_parameter("users", match.regex(USER, regex=r"^\S+@\S+$"))
        .will_respond_with(200)
        .with_body(page("workflows", workflow_entry(any_status, user=match.regex(USER, regex=r"^\S+@\S+$"))), JSON)
    )
    (
        request(f"a request for workflow {WORKFLOW} by name", "GET", workflow_path())
        .will_respond_with(200)
        .with_body(workflow_detail(), JSON)
    )
    by_uuid = path("/api/workflow/{uuid}", uuid=(WORKFLOW_UUID, UUID_REGEX))
    (
        request(f"a request for workflow {WORKFLOW_UUID} by uuid", "GET", by_uuid)
        .will_respond_with(200)
        .with_body(workflow_detail(), JSON)
    )
    (
        paged(request(f"a request for a page of the groups of {WORKFLOW}", "GET", workflow_path("/groups")))
        .will_respond_with(200)
        .with_body(page("groups", group()), JSON)
    )
    (
        paged(request(f"a request for a page of the tasks of {WORKFLOW}", "GET", workflow_path("/tasks")))
        .will_respond_with(200)
        .with_body(page("tasks", task()), JSON)
    )
    (
        request(f"a request for the logs of {WORKFLOW}", "GET", workflow_path("/logs"))
        .with_query_parameter("last_n_lines", match.regex("1000", regex=WHOLE_NUMBER))
        .will_respond_with(200)
        .with_body(
            "2024-05-01 12:00:05 [train] Starting training on 8 GPUs\n"
            "2024-05-01 12:00:09 [train] epoch 1/10 loss=0.913\n",
            TEXT,
        )
    )
    (
        request(f"a request for the events of {WORKFLOW}", "GET", workflow_path("/events"))
        .will_respond_with(200)
        .with_body(
            "2024-05-01 12:00:01 [train] Scheduled: assigned to node dgx-a100-001\n"
            "2024-05-01 12:00:04 [train] Started: container started\n",
            TEXT,
        )
    )
    (
        request(f"a request for the spec of {WORKFLOW}", "GET", workflow_path("/spec"))
        .will_respond_with(200)
        .with_body(
            "workflow:\n  name: train-policy\n  tasks:\n  - name: train\n"
            "    image: nvcr.io/nvidia/pytorch:24.04-py3\n    command: [python, train.py]\n",
            TEXT,
        )
    )
    forward = path("/api/workflow/{name}/portforward/{task}", name=(WORKFLOW, WORKFLOW_REGEX), task=(TASK, NAME_REGEX))
    (
        request(f"a request to forward port 8888 of task {TASK} of {WORKFLOW}", "POST", forward)
        .with_query_parameter("task_ports", match.regex("8888", regex=WHOLE_NUMBER))
        .will_respond_with(200)
        .with_body(
            match.each_like(
                {
                    "router_address": match.regex("wss://router.osmo.example.test", regex=r"^wss?://\S+$"),
                    "key": match.regex("PORTFORWARD-3kq9x2m1", regex=r"^PORTFORWARD-[A-Za-z0-9]+$"),
                    "cookie": match.str("osmo-router=3kq9x2m1"),
                    "task_port": match.int(8888),
                }
            ),
            JSON,
        )
    )
    terminal = path("/api/workflow/{name}/exec/task/{task}", name=(WORKFLOW, WORKFLOW_REGEX), task=(TASK, NAME_REGEX))
    (
        request(f"a request to run ls in the terminal of task {TASK} of {WORKFLOW}", "POST", terminal)
        .with_body({"command": match.str("ls")}, JSON)
        .will_respond_with(200)
        .with_body("checkpoints\ndata\ntrain.py\n", TEXT)
    )


def use_workflows(base_url: str) -> None:
    """The workflows page and its filters, a workflow's page and its tabs, a port-forward and a terminal."""
    osmo = OsmoClient(base_url, TOKEN)
    listed = osmo.list_workflows()
    assert (listed["total"], listed["offset"], listed["limit"]) == (1, 0, 20)
    assert [w["name"] for w in listed["workflows"]] == [WORKFLOW]
    assert {w["status"] for w in osmo.list_workflows(status="RUNNING")["workflows"]} == {"RUNNING"}
    assert {w["pool"] for w in osmo.list_workflows(pool=POOL)["workflows"]} == {POOL}
    assert {w["user"] for w in osmo.list_workflows(user=USER)["workflows"]} == {USER}
    shown = osmo.get_workflow(WORKFLOW)
    assert (shown["name"], shown["uuid"], shown["status"]) == (WORKFLOW, WORKFLOW_UUID, "RUNNING")
    assert osmo.get_workflow_by_uuid(WORKFLOW_UUID)["name"] == WORKFLOW
    assert [g["name"] for g in osmo.list_groups(WORKFLOW)["groups"]] == ["training"]
    tasks = osmo.list_tasks(WORKFLOW)["tasks"]
    assert [(t["name"], t["group"], t["gpu"]) for t in tasks] == [(TASK, "training", 8)]
    assert all(line.split(" ", 2)[2].startswith(f"[{TASK}]") for line in osmo.workflow_logs(WORKFLOW).splitlines())
    assert "Scheduled" in osmo.workflow_events(WORKFLOW)
    assert osmo.workflow_spec(WORKFLOW).startswith("workflow:")
    [session] = osmo.port_forward(WORKFLOW, TASK, 8888)
    assert session["router_address"].startswith("ws") and session["task_port"] == 8888
    assert "train.py" in osmo.run_command(WORKFLOW, TASK, "ls").splitlines()


def declare_pools(pact: Pact) -> None:
    """With pools: the pools page, one pool's nodes, every node."""
    pool = {
        "name": named(POOL),
        "description": match.str("Isaac Sim and training GPUs"),
        "status": one_of("ONLINE", POOL_STATUSES),
        "backend": named("dgx-cluster"),
        "default_platform": named("dgx-a100"),
        "resource_usage": {
            "quota_used": match.int(16),
            "quota_free": match.int(48),
            "quota_limit": match.int(64),
            "total_usage": match.int(24),
            "total_capacity": match.int(64),
            "total_free": match.int(40),
        },
    }
    resource = {
        "hostname": named("dgx-a100-001"),
        "backend": named("dgx-cluster"),
        "pool": named(POOL),
        "platform": named("dgx-a100"),
        "resource_type": one_of("SHARED", RESOURCE_TYPES),
        "conditions": match.each_like(match.str("Ready")),
        "allocatable_fields": capacity(8, 128, 1024, 2048),
        "usage_fields": capacity(4, 64, 512, 400),
    }
    (
        paged(pact.upon_receiving("a request for a page of pools").given(POOLS_EXIST).with_request("GET", "/api/pool"))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(page("pools", pool), JSON)
    )
    pool_resources = path("/api/pool/{pool}/resources", pool=(POOL, NAME_REGEX))
    (
        paged(
            pact.upon_receiving(f"a request for a page of the resources of pool {POOL}")
            .given(POOLS_EXIST)
            .with_request("GET", pool_resources)
        )
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(page("resources", {**resource, "pool": exactly(POOL)}), JSON)
    )
    (
        paged(
            pact.upon_receiving("a request for a page of all resources")
            .given(POOLS_EXIST)
            .with_request("GET", "/api/resources")
        )
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(page("resources", resource), JSON)
    )


def use_pools(base_url: str) -> None:
    """The pools page, a pool's nodes, the resources page."""
    osmo = OsmoClient(base_url, TOKEN)
    pools = osmo.list_pools()["pools"]
    assert [(p["name"], p["status"]) for p in pools] == [(POOL, "ONLINE")]
    usage = pools[0]["resource_usage"]
    assert usage["quota_used"] + usage["quota_free"] == usage["quota_limit"]
    nodes = osmo.list_pool_resources(POOL)["resources"]
    assert {n["pool"] for n in nodes} == {POOL}
    assert all(n["usage_fields"]["gpu"] <= n["allocatable_fields"]["gpu"] for n in nodes)
    assert osmo.list_resources()["resources"][0]["resource_type"] in RESOURCE_TYPES


def declare_data(pact: Pact) -> None:
    """With buckets and datasets: the buckets page, a bucket's artifacts, the datasets, a dataset's collections."""
    bucket = {
        "name": named(BUCKET),
        "path": match.regex(f"s3://{BUCKET}", regex=r"^(s3|gs|azure|swift)://\S+$"),
        "description": match.str("Datasets for robot learning"),
        "mode": one_of("read-write", BUCKET_MODES),
        "default_cred": match.bool(True),
    }
    artifact = {
        "path": match.str(f"{WORKFLOW}/checkpoints/epoch-1.pt"),
        "workflow": named(WORKFLOW, WORKFLOW_REGEX),
        "size": match.int(104857600),  # bytes
        "last_modified": timestamp(),
    }
    dataset = {
        "name": named(DATASET),
        "id": match.regex("Zx3kQ9mT2bWv8LcN1pRs4A", regex=r"^[A-Za-z0-9_-]{22}$"),
        "bucket": named(BUCKET),
        "type": one_of("DATASET", DATASET_TYPES),
        "version_id": match.regex("3", regex=WHOLE_NUMBER),
        "create_time": timestamp(),
        "last_created": timestamp(),
        "hash_location_size": match.int(5368709120),  # bytes
    }
    collection = {
        "name": named("grasp-benchmark"),
        "version": match.regex("1", regex=WHOLE_NUMBER),
        "bucket": named(BUCKET),
        "status": one_of("READY", DATASET_STATUSES),
        "size": match.int(10737418240),  # bytes
        "created_date": timestamp(),
    }
    lists = [
        ("a request for a page of buckets", "/api/bucket", "buckets", bucket),
        (
            f"a request for a page of the artifacts in bucket {BUCKET}",
            path("/api/bucket/{bucket}/artifacts", bucket=(BUCKET, NAME_REGEX)),
            "artifacts",
            artifact,
        ),
        ("a request for a page of datasets", "/api/bucket/list_dataset", "datasets", dataset),
        (
            f"a request for a page of the collections holding dataset {DATASET}",
            path(
                "/api/bucket/{bucket}/dataset/{dataset}/collections",
                bucket=(BUCKET, NAME_REGEX),
                dataset=(DATASET, NAME_REGEX),
            ),
            "collections",
            collection,
        ),
    ]
    for description, request_path, items, item in lists:
        (
            paged(pact.upon_receiving(description).given(DATA_EXISTS).with_request("GET", request_path))
            .with_headers(headers())
            .will_respond_with(200)
            .with_body(page(items, item), JSON)
        )


def use_data(base_url: str) -> None:
    """The data pages: buckets, what workflows wrote to one, datasets, the collections holding one."""
    osmo = OsmoClient(base_url, TOKEN)
    assert [b["name"] for b in osmo.list_buckets()["buckets"]] == [BUCKET]
    assert osmo.list_artifacts(BUCKET)["artifacts"][0]["workflow"] == WORKFLOW
    datasets = osmo.list_datasets()["datasets"]
    assert [(d["name"], d["bucket"], d["type"]) for d in datasets] == [(DATASET, BUCKET, "DATASET")]
    assert osmo.list_collections(BUCKET, DATASET)["collections"][0]["status"] == "READY"


def declare_without_state(pact: Pact) -> None:
    """Whatever exists: the user's profile and settings, and a workflow that does not exist."""
    (
        pact.upon_receiving("a request for the user's profile")
        .with_request("GET", "/api/profile")
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(
            {
                "username": match.str(USER),
                "email": match.regex(USER, regex=r"^[^@\s]+@[^@\s]+$"),
                "roles": match.each_like(match.str("osmo-user")),
            },
            JSON,
        )
    )
    (
        pact.upon_receiving("a request for the user's settings")
        .with_request("GET", "/api/profile/settings")
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(
            {
                "profile": {
                    "username": match.str(USER),
                    "email_notification": match.bool(True),
                    "slack_notification": match.bool(False),
                    "bucket": named(BUCKET),
                    "pool": named(POOL),
                },
                "roles": match.each_like(match.str("osmo-user")),
                "pools": match.each_like(named(POOL)),
            },
            JSON,
        )
    )
    (
        pact.upon_receiving(f"a request for workflow {MISSING_WORKFLOW}, which does not exist")
        .with_request("GET", path("/api/workflow/{name}", name=(MISSING_WORKFLOW, WORKFLOW_REGEX)))
        .with_headers(headers())
        .will_respond_with(404)
        .with_header("Content-Type", problem_content_type())
        .with_body({"title": match.str("Not Found"), "status": match.int(404)})
    )


def use_without_state(base_url: str) -> None:
    """The user menu (profile, settings) and a stale link to a workflow."""
    osmo = OsmoClient(base_url, TOKEN)
    me = osmo.profile()
    assert me["username"] == USER and me["roles"]
    settings = osmo.settings()
    assert (settings["profile"]["pool"], settings["pools"]) == (POOL, [POOL])
    with pytest.raises(OsmoError) as missing:
        osmo.get_workflow(MISSING_WORKFLOW)
    assert (missing.value.status, missing.value.document["status"]) == (404, 404)


SESSIONS = {
    WORKFLOWS_EXIST: Session(declare_workflows, use_workflows),
    POOLS_EXIST: Session(declare_pools, use_pools),
    DATA_EXISTS: Session(declare_data, use_data),
    "no provider state": Session(declare_without_state, use_without_state),
}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_session(name: str, tmp_path: Path) -> None:
    """The client gets what it expects from the mock server, and sends exactly the declared requests."""
    record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)


def test_committed_pact_is_the_recorded_one(tmp_path: Path) -> None:
    """examples/osmo/OsmoUI-OSMO.json is exactly what the sessions record (recorded afresh here)."""
    for name in sorted(SESSIONS):
        record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)
    check_in(tmp_path / PACT_FILE, committed_folder("osmo") / PACT_FILE)
