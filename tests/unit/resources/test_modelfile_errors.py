"""A wrong model file is refused with its file, the line of the mistake and the fix, whatever the mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.resources.modelfile import ModelFileError, read_model_file

from .flow_model import FLOW_MODEL, Mistake, changed, line_of, write

MISTAKES = {
    "misspelt key": Mistake(
        "      transitions:\n",
        "      transitons:\n",
        "transitons",
        'unknown key "transitons" in the state machine of collection "tasks"',
        'did you mean "transitions"?',
    ),
    "transition to a state the machine lacks": Mistake(
        "to: cancelled",
        "to: canceled",
        "to: canceled",
        'action POST /api/v1/tasks/{id}/cancel: "to" names state "canceled", which collection "tasks" does not have',
        "its states are pending, completed, failed, cancelled, running, preempting",
    ),
    "unknown id strategy": Mistake(
        "{field: id, strategy: uuid}",
        "{field: id, strategy: uid}",
        "strategy: uid",
        'id strategy "uid" of collection "pods" is not one pactmock knows',
        'did you mean "uuid"?',
    ),
    "prefix without the prefixed strategy": Mistake(
        "      strategy: prefixed\n",
        "      strategy: counter\n",
        "prefix: task_",
        'the id of collection "tasks" has a prefix, which only the prefixed strategy uses',
        'remove it, or write "strategy: prefixed"',
    ),
    "item path without {id}": Mistake(
        "item: /pools/{id}",
        "item: /pools/{name}",
        "item: /pools/{name}",
        'the item path "/pools/{name}" of collection "pools" has no {id}',
        'write "/pools/{name}/{id}"',
    ),
    "path without a leading slash": Mistake(
        "path: /api/v1/tasks\n",
        "path: api/v1/tasks\n",
        "path: api/v1/tasks",
        'the path of collection "tasks" is "api/v1/tasks", which does not start with /',
        'write "/api/v1/tasks"',
    ),
    "a state missing from the states listed": Mistake(
        "      initial: pending\n",
        "      initial: pending\n      states: [pending, running, completed, failed, cancelled]\n",
        "running: [preempting",
        '"preempting" is not one of the states of collection "tasks"',
        "(or add it to states)",
    ),
    "a guard on a state the machine lacks": Mistake(
        "    to_from_body: status\n",
        "    to_from_body: status\n    guard: {status: [pending, runing]}\n",
        "guard: {status",
        'guard status of action POST /api/v1/demo/transition_task/{id} names "runing", which is not a state',
        "its states are pending, completed, failed, cancelled, running, preempting",
    ),
    "a terminal state with transitions": Mistake(
        "        preempting: [running, failed]\n",
        "        preempting: [running, failed]\n        failed: [running]\n",
        "failed: [running]",
        'terminal state "failed" of collection "tasks" has transitions',
        'remove its transitions, or remove "failed" from terminal',
    ),
    "a lone near-twin of a state": Mistake(
        "pending: [running, cancelled]",
        "pending: [runing, cancelled]",
        "pending: [runing",
        'state "runing" of collection "tasks" appears only here and is close to "running"',
        'did you mean "running"?',
    ),
    "a state YAML reads as a boolean": Mistake(
        "initial: pending",
        "initial: on",
        "initial: on",
        'the initial state of collection "tasks" must be text, but on reads as a bool',
        'quote it: "on"',
    ),
    "two effects": Mistake(
        "    to: cancelled\n",
        "    to: cancelled\n    reset: true\n",
        "reset: true",
        'action POST /api/v1/tasks/{id}/cancel has both "to" and "reset"',
        "an action has one effect: split it into two actions",
    ),
    "set beside a summary": Mistake(
        "      items: pods\n",
        "      items: pods\n    set: {usage: used}\n",
        "set: {usage: used}",
        '"set" cannot accompany "summary" in action GET /pools/{pool}/status',
        "only to, to_from_body and claim take set",
    ),
    "an action with no effect": Mistake(
        "    to_from_body: status\n",
        "    guard: {status: [pending]}\n",
        "method: POST\n    path: /api/v1/demo/transition_task",
        "action POST /api/v1/demo/transition_task/{id} has no effect",
        "add one of to, to_from_body, set, set_from_body, claim, summary, reset, load, hook",
    ),
    "not an HTTP method": Mistake(
        "method: GET\n    path: /pools/{pool}/status",
        "method: GTE\n    path: /pools/{pool}/status",
        "method: GTE",
        'method "GTE" is not an HTTP method',
        'did you mean "GET"?',
    ),
    "a reference pactmock does not fill in": Mistake(
        "claimedBy: $query.workspaceId",
        "claimedBy: $qurey.workspaceId",
        "claimedBy: $qurey",
        '"$qurey.workspaceId" in action GET /pools/{pool}/workspace is not a value pactmock fills in',
        "write $now, $body.<field>, $query.<name> or $path.<name>",
    ),
    "a path parameter the path lacks": Mistake(
        "pool: $path.pool}",
        "pool: $path.name}",
        "pool: $path.name",
        '"$path.name" in action GET /pools/{pool}/workspace names a path parameter the path does not have',
        "use one of {pool} or add it to the path",
    ),
    "{id} on a collection without an item path": Mistake(
        "    item: /workspaces/{id}\n",
        "",
        "path: /workspaces/{id}/update",
        'action POST /workspaces/{id}/update names {id}, but collection "pods" has no item path',
        'add `item: /workspaces/{id}` to collection "pods"',
    ),
    "a transition on a collection without a state machine": Mistake(
        "    collection: tasks\n    to: cancelled",
        "    collection: pods\n    to: cancelled",
        "to: cancelled",
        'is a transition, but collection "pods" has no state machine',
        'add `state:` to collection "pods"',
    ),
    "an action on an undeclared collection": Mistake(
        "collection: tasks\n    to_from_body",
        "collection: task\n    to_from_body",
        "collection: task\n",
        'names collection "task", which the file does not declare',
        'did you mean "tasks"?',
    ),
    "a fixture of an undeclared collection": Mistake(
        "    pods:\n      - {id: pod-1",
        "    pod:\n      - {id: pod-1",
        "- {id: pod-1",
        'fixture "default_pool" has items of collection "pod", which the file does not declare',
        'did you mean "pods"?',
    ),
    "a fixture item without the id it cannot be given": Mistake(
        "{name: default-pool}",
        "{title: default-pool}",
        "{title: default-pool}",
        'an item of pools in fixture "default_pool" has no "name"',
        "give it `name: ...` (pools does not generate ids: its strategy is given)",
    ),
    "a fixture item in no state": Mistake(
        "status: running, nodes: 4",
        "status: stuck, nodes: 4",
        "status: stuck",
        'has status "stuck", which is not a state',
        "its states are pending, completed",
    ),
    "a scenario of an unknown fixture": Mistake(
        "all_scenarios: [oom_failure, multi_node]",
        "all_scenarios: [oom_failure, multinode]",
        "all_scenarios: [oom_failure, multinode]",
        'scenario "all_scenarios" names "multinode", which is not one of the file\'s fixtures',
        'did you mean "multi_node"?',
    ),
    "a provider state loading nothing known": Mistake(
        '"a task exists": [one_task]',
        '"a task exists": [one_tsak]',
        "one_tsak",
        'provider state "a task exists" names "one_tsak", which is not one of the file\'s fixtures and scenarios',
        'did you mean "one_task"?',
    ),
    "start naming a single fixture without a list": Mistake(
        "start: [default_pool]",
        "start: default_pool",
        "start: default_pool",
        "start must be a list, not default_pool",
        "write it as a list: [default_pool]",
    ),
    "load of an unknown scenario": Mistake(
        "load: all_scenarios",
        "load: every_scenario",
        "load: every_scenario",
        'action POST /api/v1/demo/create_all_scenarios loads "every_scenario", which is neither a fixture nor a scenario',
        'did you mean "all_scenarios"?',
    ),
    "children of an undeclared collection": Mistake(
        "{collection: pods, count: 5",
        "{collection: pod, count: 5",
        "children: {collection: pod,",
        'children of collection "pools" name collection "pod", which the file does not declare',
        'did you mean "pods"?',
    ),
    "a capacity of nothing": Mistake(
        "capacity: 1000",
        "capacity: 0",
        "capacity: 0",
        'the capacity of collection "tasks" is 0, below 1',
        "write a number of at least 1",
    ),
    "a repeated key": Mistake(
        "    total: total\n",
        "    total: total\n    envelope: items\n",
        "envelope: items",
        'key "envelope" is repeated in collection "tasks" (first at line 14)',
        "keep one of them",
    ),
    "a route declared twice": Mistake(
        "path: /api/v1/demo/reset",
        "path: /api/v1/tasks/{id}/cancel",
        "method: POST\n    path: /api/v1/tasks/{id}/cancel\n    reset",
        "action POST /api/v1/tasks/{id}/cancel is declared twice (first at line 39)",
        "keep one of them",
    ),
    "reset: false": Mistake(
        "reset: true",
        "reset: false",
        "reset: false",
        "reset: false in action POST /api/v1/demo/reset does nothing",
        "write reset: true",
    ),
    "a version this pactmock does not read": Mistake(
        "version: 1",
        "version: 2",
        "version: 2",
        "version 2 is not a format this pactmock reads",
        "write `version: 1`",
    ),
    "no version": Mistake(
        "version: 1\n",
        "",
        "provider: Flow",
        'the model file has no "version"',
        "add `version: 1`",
    ),
    "YAML that does not parse": Mistake(
        "    filters: [status, owner]\n",
        "    filters: [status, owner\n",
        "    defaults",
        "this is not valid YAML: while parsing a flow sequence (line 16), expected ',' or ']', but got ':'",
        "check the indentation and quoting here",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_is_named_with_its_line_and_fix(tmp_path: Path, mistake: Mistake) -> None:
    text = changed(mistake.old, mistake.new)
    path = write(tmp_path, text)
    line = line_of(text, mistake.at)

    with pytest.raises(ModelFileError) as raised:
        read_model_file(path, "Flow")

    error = raised.value
    assert str(error) == f"{path}:{line}: {error.problem}; {error.fix}"
    assert (error.file, error.line) == (str(path), line)
    assert mistake.problem in error.problem
    assert mistake.fix in error.fix


def test_an_empty_file_asks_for_a_version(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")

    with pytest.raises(ModelFileError, match=r":1: the model file is empty; start it with `version: 1`$"):
        read_model_file(path, "Flow")


def test_the_unchanged_file_is_valid(tmp_path: Path) -> None:
    assert read_model_file(write(tmp_path, FLOW_MODEL), "Flow").provider == "Flow"
