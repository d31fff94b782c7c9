"""A model file that uses time, volume and hooks, with the hook module it names, and helpers to break it."""

from __future__ import annotations

from pathlib import Path

from .flow_model import write

CLOCK_MODEL = """\
version: 1
provider: Teraslice
seed: 42
collections:
  executions:
    path: /v1/ex
    item: /v1/ex/{id}
    id: {field: ex_id, strategy: uuid}
    envelope: null
    state:
      field: _status
      initial: pending
      terminal: [completed, stopped, failed, terminated]
      transitions:
        running: [stopping, failing]
      timed:
        pending: {after: [3, 4], to: scheduling}
        scheduling: {after: [3, 4.5], to: running}
        stopping: {after: 60, to: stopped}
        failing: {after: 120, to: {failed: 0.25, terminated: 0.75}}
      since: _updated
    every:
      - {seconds: 180, start: 0.5, stop: 0.5, stop_to: stopping}
      - {seconds: 30, start: 0.1}
    hooks: {slices: "clockhooks:slices"}
  workflows:
    path: /api/workflow
    item: /api/workflow/{id}
    id: {field: id, strategy: prefixed, prefix: wf-, width: 8}
    envelope: workflows
    total: total
    generated:
      count: HIGH
      fields:
        status: {enum: [PENDING, RUNNING, COMPLETED]}
        priority: {range: [1, 10]}
        submit_time: {age: [60, 86400]}
        name: {text: "train-{index:6}"}
        progress: {hook: "clockhooks:progress"}
    page: {style: from, max: 5000}
    lookup: [name]
actions:
  - method: POST
    path: /v1/data/refresh
    hook: "clockhooks:refreshed"
  - method: POST
    path: /v1/ex/{id}/_stop
    collection: executions
    to: stopping
    hook: "clockhooks:stopped"
  - method: GET
    path: /v1/ex/{id}/_controller
    collection: executions
    hook: clockhooks:controller
"""

# The hook module the model file names: found beside it, so it needs no installing.
CLOCK_HOOKS = """\
def slices(call):
    return 0


def progress(call):
    return 0.5


def refreshed(call):
    return {"refreshed": True}


def stopped(call):
    return call.item


def controller(call):
    return {"ex_id": call.item["ex_id"]}
"""


def write_clock(folder: Path, text: str = CLOCK_MODEL, name: str = "ts-topy-Teraslice.model.yaml") -> Path:
    """The text as a model file in the folder, with clockhooks.py beside it."""
    (folder / "clockhooks.py").write_text(CLOCK_HOOKS, encoding="utf-8")
    return write(folder, text, name)


def clock_changed(old: str, new: str) -> str:
    """CLOCK_MODEL with `old`, which it holds once, replaced by `new`."""
    assert CLOCK_MODEL.count(old) == 1, old
    return CLOCK_MODEL.replace(old, new)
