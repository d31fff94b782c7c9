"""A complete model file, modelled on docs/resources.md's example, and helpers to write it and break it."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

FLOW_MODEL = """\
version: 1
provider: Flow
auth:
  bearer_prefix: "test-"
collections:
  tasks:
    path: /api/v1/tasks
    item: /api/v1/tasks/{id}
    id:
      field: id
      strategy: prefixed
      prefix: task_
      start: 1
    envelope: tasks
    total: total
    filters: [status, owner]
    defaults: {priority: normal, retries: 0, spot: false}
    capacity: 1000
    state:
      field: status
      initial: pending
      terminal: [completed, failed, cancelled]
      transitions:
        pending: [running, cancelled]
        running: [preempting, completed, failed, cancelled]
        preempting: [running, failed]
  pools:
    path: /pools
    item: /pools/{id}
    id: {field: name, strategy: given}
    envelope: null
    children: {collection: pods, count: 5, field: pool, count_from: size}
  pods:
    path: /pools/{pool}/workspaces
    item: /workspaces/{id}
    id: {field: id, strategy: uuid}
    auto_create: 3
actions:
  - method: POST
    path: /api/v1/tasks/{id}/cancel
    collection: tasks
    to: cancelled
  - method: POST
    path: /api/v1/demo/transition_task/{id}
    collection: tasks
    to_from_body: status
  - method: POST
    path: /workspaces/{id}/update
    collection: pods
    set: {usage: used, claimed_at: $now}
    set_from_body: [repositories]
    guard: {usage: [free, used]}
  - method: GET
    path: /pools/{pool}/workspace
    collection: pods
    claim:
      where: {usage: free}
      create_when_none: true
    set: {usage: used, claimedBy: $query.workspaceId, claimed_at: $now, pool: $path.pool}
  - method: GET
    path: /pools/{pool}/status
    collection: pods
    summary:
      totals: {total: "*", available: {usage: free}, used: {usage: used}, big: {size: 2}}
      items: pods
  - method: POST
    path: /api/v1/demo/reset
    reset: true
  - method: POST
    path: /api/v1/demo/create_all_scenarios
    load: all_scenarios
fixtures:
  default_pool:
    pools:
      - {name: default-pool}
    pods:
      - {id: pod-1, pool: default-pool, usage: free}
      - {id: pod-2, pool: default-pool, usage: used, ports: {"8080": "http://pod-2:8080"}}
  oom_failure:
    tasks:
      - {id: task_oom, status: failed, failure: OOM, nodes: 1, created: 2026-01-01}
  multi_node:
    tasks:
      - {id: task_multi, status: running, nodes: 4, ready: 4}
  one_task:
    tasks:
      - {status: pending}
scenarios:
  all_scenarios: [oom_failure, multi_node]
start: [default_pool]
states:
  "a task exists": [one_task]
  "every scenario": [all_scenarios]
"""


def write(folder: Path, text: str, name: str = "flow-consumer-Flow.model.yaml") -> Path:
    """The text as a model file in the folder."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str) -> str:
    """FLOW_MODEL with `old`, which it holds once, replaced by `new`."""
    assert FLOW_MODEL.count(old) == 1, old
    return FLOW_MODEL.replace(old, new)


class Mistake(NamedTuple):
    """A model text with `old` written as `new`; the error is on the line where `at` first appears."""

    old: str
    new: str
    at: str
    problem: str
    fix: str


def line_of(text: str, part: str) -> int:
    """The 1-based line where `part` first appears in `text`."""
    assert part in text, part
    return text[: text.index(part)].count("\n") + 1
