"""Mistakes in time, volume and hooks are refused with the file, the line of the mistake and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.resources.modelfile import ModelFileError, read_model_file

from .clock_model import clock_changed, write_clock
from .flow_model import Mistake, line_of

HOOK_FIX = "put {module}.py beside the model file, or name an importable module, and define {function}(call)"

MISTAKES = {
    "a negative seed": Mistake(
        "seed: 42", "seed: -1", "seed: -1", "seed is -1, below 0", "write a number of at least 0"
    ),
    "a clock step of nothing": Mistake(
        "seed: 42",
        "seed: 42\nclock: {step: 0}",
        "step: 0",
        "clock.step is 0; it must be above 0",
        "write a number above 0",
    ),
    "a clock step longer than a day": Mistake(
        "seed: 42",
        "seed: 42\nclock: {step: 90000}",
        "step: 90000",
        "clock.step 90000 is more than a day",
        "write a step of at most 86400 seconds",
    ),
    "a clock without its step": Mistake(
        "seed: 42", "seed: 42\nclock: {}", "clock: {}", '"clock" has no "step"', "write `clock: {step: 1}`"
    ),
    "a seed that is not a number": Mistake(
        "seed: 42", "seed: lucky", "seed: lucky", "seed must be a whole number, not lucky", "write a number like 1"
    ),
    "a timed move from a state the states list lacks": Mistake(
        "      initial: pending\n",
        "      initial: pending\n      states: [pending, completed, stopped, failed, terminated, running, stopping, failing]\n",
        "to: scheduling",
        '"scheduling" is not one of the states of collection "executions"',
        "(or add it to states)",
    ),
    "a timed move from a terminal state": Mistake(
        "        stopping: {after: 60, to: stopped}\n",
        "        stopping: {after: 60, to: stopped}\n        stopped: {after: 60, to: running}\n",
        "stopped: {after: 60, to: running}",
        'terminal state "stopped" of collection "executions" has a timed move',
        'remove its timed move, or remove "stopped" from terminal',
    ),
    "a negative duration": Mistake(
        "after: 60,",
        "after: -60,",
        "after: -60",
        'after of the timed move from "stopping" in collection "executions" is -60, below 0',
        "write a number of at least 0",
    ),
    "a duration range the wrong way round": Mistake(
        "after: [3, 4.5]",
        "after: [4.5, 3]",
        "after: [4.5, 3]",
        "whose low end is above its high end",
        "write [3, 4.5]",
    ),
    "a duration range of one number": Mistake(
        "after: [3, 4.5]",
        "after: [3]",
        "after: [3]",
        'after of the timed move from "scheduling" in collection "executions" must be [low, high], not 1 values',
        "write two numbers: [low, high]",
    ),
    "a duration in words": Mistake(
        "after: 120,",
        "after: soon,",
        "after: soon",
        "must be a number, not soon",
        "write a number like 0",
    ),
    "branches that do not add up to 1": Mistake(
        "terminated: 0.75}",
        "terminated: 0.65}",
        "{failed: 0.25, terminated: 0.65}",
        'the probabilities of the targets of the timed move from "failing" in collection "executions" add up to 0.9, not 1',
        "make them add up to 1",
    ),
    "a branch that never happens": Mistake(
        "{failed: 0.25, terminated: 0.75}",
        "{failed: 0, terminated: 1}",
        "failed: 0,",
        'the probability of "failed" in the timed move from "failing" in collection "executions" is 0; it must be above 0',
        "write a number above 0",
    ),
    "a timed move that goes nowhere": Mistake(
        "{after: 60, to: stopped}",
        "{after: 60}",
        "stopping: {after: 60}",
        'the timed move from "stopping" in collection "executions" has no "to"',
        "add `to: ...` to it",
    ),
    "a since field that is the state field": Mistake(
        "since: _updated",
        "since: _status",
        "since: _status",
        'the since field of collection "executions" is its state field "_status"',
        "name another field",
    ),
    "a period of no time": Mistake(
        "seconds: 30,",
        "seconds: 0,",
        "seconds: 0",
        'the seconds of periodic event 2 of collection "executions" is 0; it must be above 0',
        "write a number above 0",
    ),
    "start and stop above certainty": Mistake(
        "start: 0.5, stop: 0.5",
        "start: 0.6, stop: 0.5",
        "{seconds: 180",
        'the start and stop probabilities of periodic event 1 of collection "executions" add up to 1.1, above 1',
        "lower them",
    ),
    "a probability above 1": Mistake(
        "start: 0.1}",
        "start: 2}",
        "start: 2}",
        'the start probability of periodic event 2 of collection "executions" is 2, above 1',
        "write a probability between 0 and 1",
    ),
    "a stop with nowhere to go": Mistake(
        ", stop_to: stopping}",
        "}",
        "{seconds: 180",
        'periodic event 1 of collection "executions" stops items but has no stop_to',
        "add `stop_to: <state>`",
    ),
    "a stop to a state the machine lacks": Mistake(
        "stop_to: stopping}",
        "stop_to: stoping}",
        "stop_to: stoping",
        'stop_to of periodic event 1 of collection "executions" names "stoping", which is not a state',
        "its states are pending, completed",
    ),
    "a stop_to that nothing uses": Mistake(
        "{seconds: 30, start: 0.1}",
        "{seconds: 30, start: 0.1, stop_to: stopped}",
        "stop_to: stopped}",
        'periodic event 2 of collection "executions" has a stop_to but never stops an item',
        "give it `stop:` a probability, or remove stop_to",
    ),
    "a periodic event that does nothing": Mistake(
        "{seconds: 30, start: 0.1}",
        "{seconds: 30}",
        "{seconds: 30}",
        'periodic event 2 of collection "executions" neither starts nor stops an item',
        "give it `start:` or `stop:` a probability",
    ),
    "stopping items of a collection without states": Mistake(
        "    page: {style: from, max: 5000}\n",
        "    page: {style: from, max: 5000}\n    every: [{seconds: 60, stop: 1, stop_to: done}]\n",
        "stop_to: done",
        'periodic event 1 of collection "workflows" stops items, but its collection has no state machine',
        "add `state:` to the collection",
    ),
    "no items": Mistake(
        "count: HIGH",
        "count: 0",
        "count: 0",
        'the count of generated of collection "workflows" is 0, below 1',
        "at least 1",
    ),
    "more items than pactmock generates": Mistake(
        "count: HIGH",
        "count: 20000000",
        "count: 20000000",
        'the count of generated of collection "workflows" is 20,000,000, above 10,000,000',
        "write at most 10000000, or a preset: LOW (100), DEFAULT (10,000), HIGH (100,000)",
    ),
    "a misspelt preset": Mistake(
        "count: HIGH",
        "count: HIHG",
        "count: HIHG",
        'the count of generated of collection "workflows" is "HIHG", which is not a preset',
        'did you mean "HIGH"?',
    ),
    "a field made two ways": Mistake(
        "{range: [1, 10]}",
        "{range: [1, 10], enum: [1, 2]}",
        "enum: [1, 2]",
        'generated field "priority" of collection "workflows" has 2 ways of being made',
        "give it exactly one of enum, range, age, text, hook",
    ),
    "a field made no way": Mistake(
        "priority: {range: [1, 10]}",
        "priority: {}",
        "{}",
        'generated field "priority" of collection "workflows" has 0 ways of being made',
        "give it exactly one of enum, range, age, text, hook",
    ),
    "a field made a way pactmock does not know": Mistake(
        "{range: [1, 10]}",
        "{ragne: [1, 10]}",
        "ragne",
        'unknown key "ragne" in generated field "priority" of collection "workflows"',
        'did you mean "range"?',
    ),
    "a range the wrong way round": Mistake(
        "range: [1, 10]",
        "range: [10, 1]",
        "range: [10, 1]",
        'the range of generated field "priority" of collection "workflows" is [10, 1]',
        "write [1, 10]",
    ),
    "an age in the future": Mistake(
        "age: [60, 86400]",
        "age: [-60, 86400]",
        "-60",
        'the low end of the age of generated field "submit_time" of collection "workflows" is -60, below 0',
        "write a number of at least 0",
    ),
    "an enum of nothing": Mistake(
        "enum: [PENDING, RUNNING, COMPLETED]",
        "enum: []",
        "enum: []",
        'the enum of generated field "status" of collection "workflows" is empty',
        "list the values it takes",
    ),
    "a generated id field": Mistake(
        "        status: {enum",
        "        id: {text: x}\n        status: {enum",
        "id: {text: x}",
        '"id" is the id field of collection "workflows", which its id rule makes',
        "remove it here",
    ),
    "a misspelt page style": Mistake(
        "style: from",
        "style: form",
        "style: form",
        'page style "form" of collection "workflows"',
        'did you mean "from"?',
    ),
    "a default page above the largest": Mistake(
        "{style: from, max: 5000}",
        "{style: from, default: 6000, max: 5000}",
        "default: 6000",
        'the default of page of collection "workflows" is 6000, above its max 5000',
        "write at most 5000, or raise max",
    ),
    "one parameter for start and size": Mistake(
        "{style: from, max: 5000}",
        "{style: from, size: from}",
        "{style: from, size: from}",
        'page of collection "workflows" names "from" for both where a page starts and its size',
        "name two parameters",
    ),
    "a hook without its function": Mistake(
        '{slices: "clockhooks:slices"}',
        '{slices: "clockhooks"}',
        '"clockhooks"}',
        'the hook of field "slices" in collection "executions" "clockhooks" is not written module:function',
        'write it as "hooks:slices"',
    ),
    "a hook module that is nowhere": Mistake(
        '{slices: "clockhooks:slices"}',
        '{slices: "nohooks:slices"}',
        "nohooks:slices",
        "the hook of field \"slices\" in collection \"executions\" cannot be loaded: hook 'nohooks:slices': module 'nohooks' cannot be imported",
        HOOK_FIX.format(module="nohooks", function="slices"),
    ),
    "a hook function the module lacks": Mistake(
        '{hook: "clockhooks:progress"}',
        '{hook: "clockhooks:progres"}',
        "clockhooks:progres",
        "the hook of generated field \"progress\" of collection \"workflows\" cannot be loaded: hook 'clockhooks:progres': module 'clockhooks' has no callable 'progres'",
        HOOK_FIX.format(module="clockhooks", function="progres"),
    ),
    "a hook module that fails as it is imported": Mistake(
        'hook: "clockhooks:refreshed"',
        'hook: "brokenhooks:refreshed"',
        "brokenhooks:refreshed",
        "the hook of action POST /v1/data/refresh cannot be loaded: hook 'brokenhooks:refreshed': module 'brokenhooks' cannot be imported: not today",
        HOOK_FIX.format(module="brokenhooks", function="refreshed"),
    ),
    "an action with neither effect nor hook": Mistake(
        "    hook: clockhooks:controller\n",
        "",
        "method: GET\n    path: /v1/ex/{id}/_controller",
        "action GET /v1/ex/{id}/_controller has no effect",
        "add one of to, to_from_body, set, set_from_body, claim, summary, reset, load, hook",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_in_time_volume_or_hooks_is_named_with_its_line_and_fix(tmp_path: Path, mistake: Mistake) -> None:
    text = clock_changed(mistake.old, mistake.new)
    path = write_clock(tmp_path, text)
    (tmp_path / "brokenhooks.py").write_text('raise RuntimeError("not today")\n')
    line = line_of(text, mistake.at)

    with pytest.raises(ModelFileError) as raised:
        read_model_file(path, "Teraslice")

    error = raised.value
    assert str(error) == f"{path}:{line}: {error.problem}; {error.fix}"
    assert (error.file, error.line) == (str(path), line)
    assert mistake.problem in error.problem
    assert mistake.fix in error.fix


def test_the_unchanged_clock_file_is_valid(tmp_path: Path) -> None:
    assert read_model_file(write_clock(tmp_path), "Teraslice").seed == 42
