"""Hooks of the OSMO example: the values its model file (OsmoUI-OSMO.model.yaml) cannot say.

Each function gets one `HookCall` (app/resources/hooks.py) and returns a field's value or an action's answer.
Everything is worked out from the item and a generator seeded by the item's own id, so a workflow has the
same groups, tasks, logs and terminal in every worker, after a restart and on either database.

- field hooks: a workflow's `uuid` and `submitted_by` (the same values its list entry shows under other
  names), its `start_time` and `end_time` (after its submission and queueing, none while it waits), a
  pool's `resource_usage` and a node's `usage_fields` (used never above what there is);
- action hooks: a workflow's groups and tasks (paged by the query's offset and limit), its logs, events
  and spec (text), a port-forward session and a terminal command on one of its tasks; a pool's nodes
  (those of the global listing in that pool); a dataset's collections.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from app.domain.errors import Invalid, NotFound, WrongState
from app.resources.hooks import HookCall

# Sizes of the pages the hooks' lists answer: as the model file's `page:` for the generated lists.
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
# Statuses of a workflow that never started running, and those that are over.
NOT_STARTED = {"PENDING", "WAITING", "FAILED_SUBMISSION", "FAILED_QUEUE_TIMEOUT"}
RUNNING_OR_WAITING = {"PENDING", "WAITING", "RUNNING"}
# A workflow's status as its groups and tasks say it (the pact's group statuses have no PENDING or
# FAILED_SUBMISSION; a group after a failed one fails upstream).
PART_STATUS = {"PENDING": "SUBMITTING", "FAILED_SUBMISSION": "FAILED"}
# The groups a workflow may have, in order, and their tasks; every workflow trains (the pact's `train` task).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("preprocess", ("fetch-data", "shard")),
    ("training", ("train", "train-worker-1", "train-worker-2", "train-worker-3")),
    ("evaluate", ("eval",)),
)
IMAGES = {
    "preprocess": "nvcr.io/nvidia/pytorch:24.04-py3",
    "training": "nvcr.io/nvidia/pytorch:24.04-py3",
    "evaluate": "nvcr.io/nvidia/isaac-sim:4.0.0",
}
NODES = 2500
# Workflows whose times (when each left the queue, how long each runs) are kept once worked out: a page shows the
# same twenty again and again, and its times are hooks called for every page (they follow the clock).
KEPT_TIMES = 20_000
ROUTER = "wss://router.osmo.example.test"
# The pact holds its text answers word for word (a text body has no matchers), so the workflow it recorded
# answers what it recorded; every other workflow's text is made from the workflow.
RECORDED_WORKFLOW = "train-policy-1"
RECORDED = {
    "logs": "2024-05-01 12:00:05 [train] Starting training on 8 GPUs\n2024-05-01 12:00:09 [train] epoch 1/10 loss=0.913\n",
    "events": (
        "2024-05-01 12:00:01 [train] Scheduled: assigned to node dgx-a100-001\n"
        "2024-05-01 12:00:04 [train] Started: container started\n"
    ),
    "spec": (
        "workflow:\n  name: train-policy\n  tasks:\n  - name: train\n"
        "    image: nvcr.io/nvidia/pytorch:24.04-py3\n    command: [python, train.py]\n"
    ),
}


# --- field hooks ---------------------------------------------------------------------------------------------


def uuid(call: HookCall) -> Any:
    """A workflow's page shows its list entry's `workflow_uuid` as `uuid`."""
    return _item(call).get("workflow_uuid")


def submitted_by(call: HookCall) -> Any:
    """A workflow's page shows its list entry's `user` as `submitted_by`."""
    return _item(call).get("user")


def start_time(call: HookCall) -> str:
    """When the workflow started: its submission plus its time in the queue; "" if it never started."""
    started = _started(_item(call), call.now)
    return _written(started) if started else ""


def end_time(call: HookCall) -> str:
    """When the workflow ended: its start plus the run it was given (never after now); "" while it runs or waits."""
    ended = _ended(_item(call), call.now)
    return _written(ended) if ended else ""


def duration(call: HookCall) -> float:
    """Seconds from the workflow's start to its end, or to now while it runs; 0.0 if it never started."""
    workflow = _item(call)
    started = _started(workflow, call.now)
    if started is None:
        return 0.0
    return round(((_ended(workflow, call.now) or _aware(call.now)) - started).total_seconds(), 1)


def bucket_path(call: HookCall) -> str:
    """Where a bucket's data lives: an S3 URL of its name."""
    return f"s3://{_item(call).get('name')}"


def pool_usage(call: HookCall) -> dict[str, int]:
    """A pool's quota and capacity in GPUs: what is used never exceeds what there is."""
    draw = _seeded("pool", _item(call).get("name"))
    capacity = draw.choice((64, 128, 256, 512))
    used = draw.randint(0, capacity)
    limit = draw.choice((capacity // 2, capacity))
    quota_used = min(used, limit)
    return {
        "quota_free": limit - quota_used,
        "quota_limit": limit,
        "quota_used": quota_used,
        "total_capacity": capacity,
        "total_free": capacity - used,
        "total_usage": used,
    }


def node_usage(call: HookCall) -> dict[str, int]:
    """What a node uses of each of its allocatable fields."""
    node = _item(call)
    draw = _seeded("node", node.get("hostname"))
    allocatable = node.get("allocatable_fields") or {}
    return {name: draw.randint(0, int(amount)) for name, amount in allocatable.items()}


# --- a workflow's parts ------------------------------------------------------------------------------------


def groups(call: HookCall) -> dict[str, Any]:
    """A page of the workflow's task groups."""
    return _paged(call, "groups", [_without_tasks(group) for group in _groups(_item(call), call.now)])


def tasks(call: HookCall) -> dict[str, Any]:
    """A page of the workflow's tasks, group after group."""
    return _paged(call, "tasks", [task for group in _groups(_item(call), call.now) for task in group["tasks"]])


def logs(call: HookCall) -> str:
    """The last `last_n_lines` lines of the workflow's log."""
    workflow = _item(call)
    if workflow.get("name") == RECORDED_WORKFLOW:
        return RECORDED["logs"]
    lines: list[str] = []
    for group in _groups(workflow, call.now):
        for task in group["tasks"]:
            lines += _task_log(task, workflow)
    lines.sort()
    wanted = _whole(call, "last_n_lines", 1000)
    return "".join(line + "\n" for line in lines[-wanted:]) if wanted else ""


def events(call: HookCall) -> str:
    """The pod events of the workflow's tasks: scheduled, started, and how each ended."""
    workflow = _item(call)
    if workflow.get("name") == RECORDED_WORKFLOW:
        return RECORDED["events"]
    lines = []
    for group in _groups(workflow, call.now):
        for task in group["tasks"]:
            if not task["start_time"]:
                continue
            start = _parsed(task["start_time"])
            lines.append(
                f"{_spaced(start - timedelta(seconds=3))} [{task['name']}] Scheduled: assigned to node "
                f"{task['node_name']}"
            )
            lines.append(f"{_spaced(start)} [{task['name']}] Started: container started")
            if task["end_time"]:
                how = "Completed" if task["status"] == "COMPLETED" else f"Failed: {task['status']}"
                lines.append(f"{_spaced(_parsed(task['end_time']))} [{task['name']}] {how}")
    lines.sort()
    return "".join(line + "\n" for line in lines)


def spec(call: HookCall) -> str:
    """The YAML spec the workflow was submitted with."""
    workflow = _item(call)
    if workflow.get("name") == RECORDED_WORKFLOW:
        return RECORDED["spec"]
    spec_name = str(workflow.get("name", "workflow")).rsplit("-", 1)[0]
    lines = ["workflow:", f"  name: {spec_name}", "  groups:"]
    for group in _groups(workflow, call.now):
        lines.append(f"  - name: {group['name']}")
        lines.append("    tasks:")
        for task in group["tasks"]:
            lines.append(f"    - name: {task['name']}")
            lines.append(f"      image: {IMAGES[group['name']]}")
            lines.append(f"      command: [python, {task['name'].split('-')[0]}.py]")
            lines.append(f"      resources: {{gpu: {task['gpu']}, cpu: {task['cpu']}, memory: {task['memory']}Gi}}")
    return "\n".join(lines) + "\n"


def port_forward(call: HookCall) -> list[dict[str, Any]]:
    """A port-forward session per asked port of one of the workflow's tasks: where to connect."""
    workflow = _item(call)
    task = _running_task(call, workflow)
    ports = [int(p) for value in call.query.get("task_ports", []) for p in value.split(",") if p.strip().isdigit()]
    sessions = []
    for port in ports:
        token = hashlib.blake2b(
            f"{workflow['workflow_uuid']}/{task['name']}/{port}".encode(), digest_size=4
        ).hexdigest()
        sessions.append(
            {
                "cookie": f"osmo-router={token}",
                "key": f"PORTFORWARD-{token}",
                "router_address": ROUTER,
                "task_port": port,
            }
        )
    return sessions


def terminal(call: HookCall) -> str:
    """What a command typed in one of the workflow's tasks prints: ls, pwd, hostname, whoami, echo, nvidia-smi."""
    workflow = _item(call)
    task = _running_task(call, workflow)
    body = call.body if isinstance(call.body, dict) else {}
    words = str(body.get("command", "")).split()
    if not words:
        return ""
    command, arguments = words[0], words[1:]
    if command == "ls":
        return "checkpoints\ndata\ntrain.py\n"
    if command == "pwd":
        return "/workspace\n"
    if command == "hostname":
        return f"{task['node_name']}\n"
    if command == "whoami":
        return "root\n"
    if command == "echo":
        return " ".join(arguments) + "\n"
    if command == "nvidia-smi":
        return _nvidia_smi(task, call.now)
    return f"sh: 1: {command}: not found\n"


# --- pools and data ----------------------------------------------------------------------------------------


def pool_resources(call: HookCall) -> dict[str, Any]:
    """A page of one pool's nodes: those of the global listing (/api/resources) in this pool."""
    name = _item(call).get("name")
    return _paged(call, "resources", [node for node in call.items_of("resources") if node.get("pool") == name])


def dataset_collections(call: HookCall) -> dict[str, Any]:
    """A page of the collections that hold a dataset: one to five, made from the bucket's and dataset's names."""
    bucket, dataset = call.path.get("bucket", ""), call.path.get("dataset", "")
    draw = _seeded("collections", bucket, dataset)
    now = _aware(call.now)
    found = []
    for number in range(1, draw.randint(1, 5) + 1):
        created = now - timedelta(seconds=draw.randint(3600, 180 * 86400))
        found.append(
            {
                "bucket": bucket,
                "created_date": _written(created),
                "name": f"{dataset}-set-{number}",
                "size": draw.randint(1 << 20, 50 << 30),
                "status": draw.choice(("READY", "READY", "READY", "PENDING", "PENDING_DELETE", "DELETED")),
                "version": str(number),
            }
        )
    return _paged(call, "collections", found)


# --- the parts' parts --------------------------------------------------------------------------------------


def _groups(workflow: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The workflow's groups, each with its tasks, their statuses and times following the workflow's."""
    draw = _seeded("groups", workflow.get("workflow_uuid"))
    chosen: list[tuple[str, tuple[str, ...]]] = [GROUPS[1]]
    if draw.random() < 0.5:
        chosen.insert(0, GROUPS[0])
    if draw.random() < 0.5:
        chosen.append(GROUPS[2])
    status = str(workflow.get("status", "RUNNING"))
    started = _started(workflow, now)
    ended = _ended(workflow, now)
    # The group that is running (or failed) now; those before it completed, those after it wait (or fail upstream).
    current = draw.randrange(len(chosen)) if status != "COMPLETED" else len(chosen) - 1
    span = ((ended or _aware(now)) - started).total_seconds() if started else 0.0
    made = []
    for place, (name, task_names) in enumerate(chosen):
        state = _part_status(status, place, current)
        begin = started + timedelta(seconds=span * place / len(chosen)) if started and state != "WAITING" else None
        if state in ("FAILED_UPSTREAM", "SUBMITTING"):
            begin = None
        finish = None
        if begin is not None and state not in ("RUNNING",):
            finish = started + timedelta(seconds=span * (place + 1) / len(chosen)) if started else None
        failure = f"task {task_names[0]} failed: {state}" if state.startswith("FAILED") else ""
        count = draw.randint(1, len(task_names))
        group: dict[str, Any] = {
            "end_time": _written(finish) if finish else "",
            "failure_message": failure,
            "name": name,
            "start_time": _written(begin) if begin else "",
            "status": state,
        }
        group["tasks"] = [_task_of(workflow, group, task_names[k], k == 0, draw) for k in range(count)]
        made.append(group)
    return made


def _part_status(status: str, place: int, current: int) -> str:
    if status == "COMPLETED" or place < current:
        return "COMPLETED"
    if place == current:
        return PART_STATUS.get(status, status)
    if status.startswith("FAILED"):
        return "FAILED_UPSTREAM"
    return "WAITING"


def _task_of(workflow: dict[str, Any], group: dict[str, Any], name: str, lead: bool, draw: random.Random) -> dict:
    gpu = draw.choice((1, 2, 4, 8))
    return {
        "cpu": gpu * 8,
        "end_time": group["end_time"],
        "gpu": gpu,
        "group": group["name"],
        "lead": lead,
        "memory": gpu * 64,
        "name": name,
        "node_name": f"dgx-a100-{draw.randint(1, NODES):04d}",
        "pod_name": f"{workflow.get('name')}-{name}-0",
        "retry_id": 0,
        "start_time": group["start_time"],
        "status": group["status"],
        "storage": gpu * 25,
        "task_uuid": hashlib.md5(f"{workflow.get('workflow_uuid')}/{name}".encode()).hexdigest(),
    }


def _without_tasks(group: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in group.items() if key != "tasks"}


def _running_task(call: HookCall, workflow: dict[str, Any]) -> dict[str, Any]:
    """The task the path names: a 404 when the workflow has none of that name, a 409 when it is not running
    (only a running task has a terminal or ports to forward)."""
    name = call.path.get("task", "")
    for group in _groups(workflow, call.now):
        for task in group["tasks"]:
            if task["name"] == name:
                if task["status"] != "RUNNING":
                    raise WrongState(f"task {name} of workflow {workflow.get('name')} is {task['status']}, not RUNNING")
                return task
    raise NotFound("task", name, f" in workflow {workflow.get('name')}")


def _task_log(task: dict[str, Any], workflow: dict[str, Any]) -> list[str]:
    if not task["start_time"]:
        return []
    start = _parsed(task["start_time"])
    finish = _parsed(task["end_time"]) if task["end_time"] else None
    draw = _seeded("log", workflow.get("workflow_uuid"), task["name"])
    epochs = draw.randint(3, 12)
    lines = [f"{_spaced(start)} [{task['name']}] Starting {task['name']} on {task['gpu']} GPUs"]
    loss = draw.uniform(0.8, 1.2)
    for epoch in range(1, epochs + 1):
        loss *= draw.uniform(0.7, 0.95)
        at = start + timedelta(seconds=4 * epoch)
        if finish is not None and at > finish:
            break
        lines.append(f"{_spaced(at)} [{task['name']}] epoch {epoch}/{epochs} loss={loss:.3f}")
    if finish is not None:
        ending = "Finished" if task["status"] == "COMPLETED" else f"Exited: {task['status']}"
        lines.append(f"{_spaced(finish)} [{task['name']}] {ending}")
    return lines


def _nvidia_smi(task: dict[str, Any], now: datetime) -> str:
    draw = _seeded("smi", task["task_uuid"])
    rows = [
        f"{_aware(now):%a %b %d %H:%M:%S %Y}",
        "+-----------------------------------------------------------------------------+",
        "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4     |",
        "| GPU  Name        Temp  Power          Memory-Usage        GPU-Util         |",
        "|=============================================================================|",
    ]
    for gpu in range(int(task["gpu"])):
        used = draw.randint(1000, 80000) if task["status"] == "RUNNING" else 0
        util = draw.randint(40, 100) if used else 0
        rows.append(
            f"| {gpu:>3}  A100-SXM4   {draw.randint(30, 75):>3}C  {draw.randint(60, 400):>4}W / 400W"
            f"  {used:>6}MiB / 81920MiB   {util:>3}%             |"
        )
    rows.append("+-----------------------------------------------------------------------------+")
    return "\n".join(rows) + "\n"


# --- small things ------------------------------------------------------------------------------------------


def _paged(call: HookCall, key: str, everything: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of a list, as the model file's generated lists answer: the items, offset, limit and total."""
    offset = _whole(call, "offset", 0)
    limit = _whole(call, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f'"limit" must be from 1 to {MAX_LIMIT:,}, not {limit}')
    return {key: everything[offset : offset + limit], "limit": limit, "offset": offset, "total": len(everything)}


def _whole(call: HookCall, name: str, default: int) -> int:
    values = call.query.get(name)
    if not values:
        return default
    text = values[0].strip()
    if not text.isdigit() or len(text) > 9:
        raise Invalid(f'"{name}" must be a whole number from 0 to 999,999,999, not {values[0][:40]!r}')
    return int(text)


def _item(call: HookCall) -> dict[str, Any]:
    return call.item or {}


def _seeded(*parts: object) -> random.Random:
    """A generator every process seeds alike from these parts (str seeds are hashed with SHA-512)."""
    return random.Random("/".join(map(str, parts)))


def _started(workflow: dict[str, Any], now: datetime) -> datetime | None:
    """Its submission plus its time in the queue (not after now); None if it never started."""
    if workflow.get("status") in NOT_STARTED:
        return None
    return _queued_until(workflow, now)


def _ended(workflow: dict[str, Any], now: datetime) -> datetime | None:
    """When a workflow that is over ended: a run drawn from its uuid after its start (not after now), or,
    if it never started, when it left the queue; None while it runs or waits."""
    if workflow.get("status") in RUNNING_OR_WAITING:
        return None
    started = _started(workflow, now)
    if started is None:
        return _queued_until(workflow, now)
    return min(started + _run(str(workflow.get("workflow_uuid"))), _aware(now))


@lru_cache(maxsize=KEPT_TIMES)
def _run(workflow_uuid: str) -> timedelta:
    """How long the workflow runs once started, drawn from its uuid."""
    return timedelta(seconds=_seeded("run", workflow_uuid).uniform(60.0, 86_400.0))


def _queued_until(workflow: dict[str, Any], now: datetime) -> datetime | None:
    submitted = workflow.get("submit_time")
    if not submitted:
        return None
    return min(_left_queue(str(submitted), workflow.get("queued_time") or 0), _aware(now))


@lru_cache(maxsize=KEPT_TIMES)
def _left_queue(submitted: str, queued: Any) -> datetime:
    """When a workflow submitted at `submitted` left the queue `queued` seconds later."""
    return _parsed(submitted) + timedelta(seconds=float(queued))


def _parsed(text: str) -> datetime:
    return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@lru_cache(maxsize=KEPT_TIMES)
def _written(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spaced(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
