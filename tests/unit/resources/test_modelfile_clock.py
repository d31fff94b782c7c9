"""Time, volume and hooks in a model file: read into the model, defaults filled in, and a draft reads back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.resources.draft import draft_yaml
from app.resources.model import (
    MAX_GENERATED,
    Action,
    Collection,
    Every,
    Generated,
    IdRule,
    Page,
    ResourceModel,
    StateMachine,
    Timed,
)
from app.resources.modelfile import ModelFileError, read_model_file

from .clock_model import CLOCK_MODEL, clock_changed, write_clock
from .flow_model import write

EXECUTIONS = Collection(
    name="executions",
    path="/v1/ex",
    item="/v1/ex/{id}",
    ids=IdRule(field="ex_id", strategy="uuid"),
    machine=StateMachine(
        field="_status",
        initial="pending",
        # In the order the file first names them: the timed moves add scheduling, which no transition names.
        states=(
            "pending",
            "completed",
            "stopped",
            "failed",
            "terminated",
            "running",
            "stopping",
            "failing",
            "scheduling",
        ),
        terminal=frozenset({"completed", "stopped", "failed", "terminated"}),
        transitions={"running": ("stopping", "failing")},
        timed={
            "pending": Timed(3.0, 4.0, (("scheduling", 1.0),)),
            "scheduling": Timed(3.0, 4.5, (("running", 1.0),)),
            "stopping": Timed(60.0, 60.0, (("stopped", 1.0),)),
            "failing": Timed(120.0, 120.0, (("failed", 0.25), ("terminated", 0.75))),
        },
        since="_updated",
    ),
    every=(Every(180.0, start=0.5, stop=0.5, stop_to="stopping"), Every(30.0, start=0.1)),
    hooks={"slices": "clockhooks:slices"},
)
WORKFLOWS = Collection(
    name="workflows",
    path="/api/workflow",
    item="/api/workflow/{id}",
    ids=IdRule(field="id", strategy="prefixed", prefix="wf-", width=8),
    envelope="workflows",
    total="total",
    generated=Generated(
        count=100_000,
        fields={
            "status": {"enum": ["PENDING", "RUNNING", "COMPLETED"]},
            "priority": {"range": [1, 10]},
            "submit_time": {"age": [60, 86400]},
            "name": {"text": "train-{index:6}"},
            "progress": {"hook": "clockhooks:progress"},
        },
    ),
    page=Page(style="from", start="from", size="size", default=100, largest=5000),
    lookup=("name",),
)
ACTIONS = (
    Action(method="POST", path="/v1/data/refresh", hook="clockhooks:refreshed"),
    Action(method="POST", path="/v1/ex/{id}/_stop", collection="executions", to="stopping", hook="clockhooks:stopped"),
    Action(method="GET", path="/v1/ex/{id}/_controller", collection="executions", hook="clockhooks:controller"),
)


def test_time_volume_and_hooks_give_the_model_they_declare(tmp_path: Path) -> None:
    path = write_clock(tmp_path)

    model = read_model_file(path, "ignored")

    assert model == ResourceModel(
        provider="Teraslice",
        collections={"executions": EXECUTIONS, "workflows": WORKFLOWS},
        actions=ACTIONS,
        seed=42,
        source=str(path),
    )
    # A range keeps the type YAML gives its ends: whole numbers make whole values.
    generated = model.collections["workflows"].generated
    assert generated is not None and all(isinstance(end, int) for end in generated.fields["priority"]["range"])


def test_a_draft_with_time_volume_and_hooks_reads_back_as_the_same_model(tmp_path: Path) -> None:
    original = read_model_file(write_clock(tmp_path), "Teraslice")

    text = draft_yaml(original)
    again = read_model_file(write(tmp_path, text, "draft.model.yaml"), "someone else")

    assert dataclasses.replace(again, source="") == dataclasses.replace(original, source="")
    assert text.splitlines()[3:5] == ["version: 1", "provider: Teraslice"] and "\nseed: 42\n" in text
    # A fixed duration is written as one number, a drawn one as its range; one target as its name.
    assert "stopping: {after: 60, to: stopped}" in text
    assert "pending: {after: [3, 4], to: scheduling}" in text
    assert "failing: {after: 120, to: {failed: 0.25, terminated: 0.75}}" in text


@pytest.mark.parametrize(
    ("style", "start", "size"),
    [
        ("offset", "offset", "limit"),
        ("from", "from", "size"),
        ("page", "page", "per_page"),
        ("cursor", "cursor", "limit"),
    ],
)
def test_each_page_style_names_its_own_parameters(tmp_path: Path, style: str, start: str, size: str) -> None:
    text = clock_changed("page: {style: from, max: 5000}", f"page: {{style: {style}}}")

    model = read_model_file(write_clock(tmp_path, text), "Teraslice")

    assert model.collections["workflows"].page == Page(style, start, size, default=100, largest=10_000)


@pytest.mark.parametrize(
    ("written", "page"),
    [
        ("{}", Page()),
        ("{max: 50}", Page(default=50, largest=50)),
        ("{default: 20, max: 200, start: skip, size: take}", Page("offset", "skip", "take", 20, 200)),
    ],
)
def test_a_page_leaves_out_what_it_does_not_change(tmp_path: Path, written: str, page: Page) -> None:
    text = clock_changed("page: {style: from, max: 5000}", f"page: {written}")

    model = read_model_file(write_clock(tmp_path, text), "Teraslice")

    assert model.collections["workflows"].page == page


@pytest.mark.parametrize(
    ("written", "count"),
    [("count: LOW", 100), ("count: default", 10_000), ("count: 7", 7), (f"count: {MAX_GENERATED}", MAX_GENERATED)],
)
def test_a_generated_count_is_a_number_or_a_preset(tmp_path: Path, written: str, count: int) -> None:
    text = clock_changed("count: HIGH", written)

    model = read_model_file(write_clock(tmp_path, text), "Teraslice")

    generated = model.collections["workflows"].generated
    assert generated is not None and WORKFLOWS.generated is not None
    assert generated == dataclasses.replace(WORKFLOWS.generated, count=count)


def test_a_generated_collection_without_a_count_has_the_default_preset(tmp_path: Path) -> None:
    text = clock_changed("    generated:\n      count: HIGH\n      fields:", "    generated:\n      fields:")

    model = read_model_file(write_clock(tmp_path, text), "Teraslice")

    assert model.collections["workflows"].generated is not None
    assert model.collections["workflows"].generated.count == 10_000


def test_a_hook_action_may_name_no_collection_and_the_seed_defaults_to_zero(tmp_path: Path) -> None:
    text = "version: 1\nactions:\n  - {method: POST, path: /v1/data/refresh, hook: 'clockhooks:refreshed'}\n"

    model = read_model_file(write_clock(tmp_path, text), "Teraslice")

    assert model.actions == (Action(method="POST", path="/v1/data/refresh", hook="clockhooks:refreshed"),)
    assert model.seed == 0


def test_a_clock_step_is_read_and_a_model_without_one_has_a_continuous_clock(tmp_path: Path) -> None:
    stepped = read_model_file(write_clock(tmp_path, clock_changed("seed: 42", "seed: 42\nclock: {step: 0.5}")), "T")
    continuous = read_model_file(write_clock(tmp_path), "Teraslice")

    assert (stepped.clock_step, continuous.clock_step) == (0.5, None)


def test_a_hook_may_be_an_importable_module_rather_than_a_file_beside(tmp_path: Path) -> None:
    text = clock_changed('hooks: {slices: "clockhooks:slices"}', 'hooks: {slices: "json:dumps"}')

    model = read_model_file(write_clock(tmp_path, text), "Teraslice")

    assert model.collections["executions"].hooks == {"slices": "json:dumps"}


def test_the_model_file_names_the_states_its_timed_moves_go_to(tmp_path: Path) -> None:
    assert "scheduling" not in CLOCK_MODEL.split("timed:")[0]

    model = read_model_file(write_clock(tmp_path), "Teraslice")

    machine = model.collections["executions"].machine
    assert machine is not None and "scheduling" in machine.states
    assert machine.allowed_from("scheduling") == ()


def test_a_generated_collection_inherits_from_its_parent_and_the_draft_keeps_it(tmp_path: Path) -> None:
    text = """\
version: 1
collections:
  jobs:
    path: /v1/jobs
    generated: {count: 100}
  executions:
    path: /v1/ex
    generated: {count: 300, parent: jobs, inherit: {job_id: id, name: name}}
"""
    model = read_model_file(write(tmp_path, text), "Teraslice")
    generated = model.collections["executions"].generated
    assert (
        generated is not None and generated.parent == "jobs" and generated.inherit == {"job_id": "id", "name": "name"}
    )
    again = read_model_file(write(tmp_path, draft_yaml(model), "again.model.yaml"), "Teraslice")
    assert again.collections["executions"].generated == generated
    wrong = text.replace("parent: jobs", "parent: jbos")
    with pytest.raises(ModelFileError, match=r':8: .*"jbos".*did you mean "jobs"'):
        read_model_file(write(tmp_path, wrong), "Teraslice")
