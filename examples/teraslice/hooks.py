"""Hooks of the Teraslice example: the values its model file cannot express.

- `slicer_stats`: an execution's slice counters, which grow with the clock (about one processed slice per
  10 s per active worker while it runs, frozen once it is terminal); workers joined and active equal the
  requested count 95% of the time; failed slices are zero in 90% of executions; queued equals active workers.
- `entered_state`, `has_errors`, `job_updated`: fields that follow other fields.
- `controllers`, `cluster_state`: the execution controllers and the node map, derived from the executions
  as a client would read them now (`call.items_of`).

Every random choice comes from `call.random`, seeded from the model's seed and the item, so the same seed
gives the same cluster in every worker, after a restart and on either store.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

# States whose executions never change again, and those whose workers have not joined yet.
TERMINAL = frozenset({"completed", "stopped", "failed", "terminated", "rejected"})
STARTING = frozenset({"pending", "scheduling", "initializing"})
TROUBLE = frozenset({"failing", "failed", "terminated"})
# About one processed slice per this many seconds per active worker.
SECONDS_PER_SLICE = 10
# Worker slots of a node in the node map.
NODE_SLOTS = 32
NODE_VERSION = "v22.11.0"
TERASLICE_VERSION = "2.11.0"


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _written(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Teraslice writes its times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def entered_state(call: Any) -> str:
    """An execution's `_updated`: when it entered the state it is in."""
    if call.since is not None:
        return _written(call.since)
    return str(call.item["_updated"])


def has_errors(call: Any) -> bool:
    """Whether an execution has failed or is failing."""
    return call.item.get("_status") in TROUBLE


def job_updated(call: Any) -> str:
    """A job's `_updated`: never before its `_created` (generated jobs were never updated since)."""
    created, updated = _moment(call.item.get("_created")), _moment(call.item.get("_updated"))
    if created is None or (updated is not None and updated > created):
        return str(call.item.get("_updated"))
    return str(call.item["_created"])


def slicer_stats(call: Any) -> dict[str, Any]:
    """An execution's `_slicer_stats` as the clock has it now."""
    item, draw = call.item, call.random
    status = str(item.get("_status"))
    requested = int(item.get("workers") or 1)
    # The draws come in a fixed order, so each execution keeps its own numbers whatever its state.
    full = draw.random() < 0.95
    joined = requested if full else requested - draw.randint(1, requested)
    clean = draw.random() < 0.9
    failure_rate = draw.uniform(0.001, 0.05)
    slicer_delay = draw.uniform(2, 15)
    drawn_run = draw.uniform(60, 7 * 86_400)

    created = _moment(item.get("_created")) or call.now
    started = created + timedelta(seconds=slicer_delay)
    since = call.since or call.now
    if status in STARTING:
        ran, active = 0.0, 0
    elif status in TERMINAL:
        # Counted up to when it ended; one born terminal ran for a drawn time the mock never saw.
        ended = (since - started).total_seconds()
        ran, active = (ended if ended > 0 else drawn_run), 0
    else:
        ran, active = max(0.0, (call.now - started).total_seconds()), joined
    processed = math.floor(ran / SECONDS_PER_SLICE * joined) if status not in STARTING else 0
    return {
        "failed": 0 if clean else math.floor(processed * failure_rate),
        "job_duration": math.floor(ran * 1000) if status in TERMINAL else 0,
        "processed": processed,
        "queued": active,
        "slice_range_expansion": 0,
        "slicers": 1,
        "started": _written(started if status not in STARTING else created),
        "subslice_by_key": 0,
        "subslices": 0,
        "workers_active": active,
        "workers_available": 0,
        "workers_disconnected": 0,
        "workers_joined": joined if status not in STARTING else 0,
        "workers_reconnected": 0,
    }


def _live(call: Any) -> list[dict[str, Any]]:
    return [ex for ex in call.items_of("executions") if ex.get("_status") not in TERMINAL]


def controllers(call: Any) -> list[dict[str, Any]]:
    """GET /v1/cluster/controllers: one controller per execution that is not terminal, with its counters."""
    return [
        {"ex_id": ex["ex_id"], "job_id": ex["job_id"], "name": ex["name"], **ex["_slicer_stats"]} for ex in _live(call)
    ]


def cluster_state(call: Any) -> dict[str, Any]:
    """GET /v1/cluster/state: nodes of NODE_SLOTS slots, filled in order with the cluster master, then each
    live execution's controller and active workers; as many nodes as that takes (at least one)."""
    assignments: list[dict[str, Any]] = [{"assignment": "cluster_master"}]
    for ex in _live(call):
        owner = {"ex_id": ex["ex_id"], "job_id": ex["job_id"]}
        assignments.append({"assignment": "execution_controller", **owner})
        assignments.extend({"assignment": "worker", **owner} for _ in range(ex["_slicer_stats"]["workers_active"]))
    nodes: dict[str, Any] = {}
    for first in range(0, len(assignments), NODE_SLOTS):
        number = first // NODE_SLOTS + 1
        node_id = f"ts-worker-{number:02d}"
        active = [
            {**assignment, "worker_id": slot, "pid": call.random.randint(1_000, 65_000)}
            for slot, assignment in enumerate(assignments[first : first + NODE_SLOTS], start=1)
        ]
        nodes[node_id] = {
            "node_id": node_id,
            "hostname": f"10.2.{number // 250}.{number % 250 + 10}",
            "pid": call.random.randint(1_000, 65_000),
            "node_version": NODE_VERSION,
            "teraslice_version": TERASLICE_VERSION,
            "state": "connected",
            "total": NODE_SLOTS,
            "available": NODE_SLOTS - len(active),
            "active": active,
        }
    return nodes
