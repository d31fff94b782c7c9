"""Generated (virtual) collections: what a client paging through a million workflows would see in each item,
worked out from (seed, collection, index) alone: the same in any process, ids and names that lead back to
their item, statuses from the contract's regex, ages from seconds to months."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.contract.match.regexes import contract_regex
from app.domain.errors import Invalid
from app.resources import generate
from app.resources.generate import count_of, generated_item, index_of, literal_choices
from app.resources.model import MAX_GENERATED, Collection, Generated, IdRule, ResourceModel

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BIG = 10_000_000
STRATEGIES = ("counter", "prefixed", "uuid", "given")
EXAMPLE: dict[str, Any] = {
    "id": "wf_abc123",
    "name": "train",
    "uid": "u",
    "status": "PENDING",
    "priority": "LOW",
    "submitted_at": "2024-05-01T12:00:00Z",
    "created_at": "2024-05-01T12:00:00.000+00:00",
    "updated_at": "2024-05-01T12:00:00Z",
    "day": "2024-05-01",
    "workers": 4,
    "cost": 1.5,
    "gpus": 2,
    "ratio": 0.5,
    "preemptible": True,
    "code": "AB123",
    "pool": "not-a-pool-code",
    "description": "a workflow",
    "spec": {"tasks": [{"name": "t", "image": "busybox"}]},
    "tags": ["a", "b"],
    "owner": "me",
    "hooked": "from the example",
}
RULES: dict[str, tuple[dict[str, Any], ...]] = {
    "status": ({"match": "regex", "regex": "^(PENDING|RUNNING|COMPLETED)$"},),
    "name": ({"match": "type"},),
    "description": ({"match": "type"},),
    "updated_at": ({"match": "datetime", "format": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"},),
    "created_at": ({"match": "timestamp"},),
    "day": ({"match": "date", "date": "yyyy-MM-dd"},),
    "workers": ({"match": "integer"},),
    "cost": ({"match": "decimal"},),
    "preemptible": ({"match": "boolean"},),
    "code": ({"match": "regex", "regex": "[A-Z]{2}[0-9]{3}"},),
    "pool": ({"match": "regex", "regex": "pool-[a-z]{4}"},),
    "spec": ({"match": "type"},),
    "tags": ({"match": "type", "min": 1},),
}
FIELDS: dict[str, dict[str, Any]] = {
    "priority": {"enum": ["LOW", "HIGH"]},
    "gpus": {"range": [0, 8]},
    "ratio": {"range": [0, 1.0]},
    "submitted_at": {"age": [1, 180 * 86_400]},
    "uid": {"text": "u-{index:4}-{id}"},
    "hooked": {"hook": "hooks:value"},
}


def workflows(strategy: str = "prefixed", seed: int = 7, name: str = "workflows") -> tuple[ResourceModel, Collection]:
    """A model with one generated collection of ten million workflows, ids by `strategy`."""
    collection = Collection(
        name,
        "/api/workflows",
        "/api/workflows/{id}",
        ids=IdRule("id", strategy, prefix="wf_", start=1, width=6),
        example=EXAMPLE,
        rules=RULES,
        generated=Generated(BIG, FIELDS),
        lookup=("name", "uid"),
    )
    return ResourceModel("Osmo", {name: collection}, seed=seed), collection


def items(indices: list[int], strategy: str = "prefixed", seed: int = 7) -> list[dict[str, Any]]:
    model, collection = workflows(strategy, seed)
    return [generated_item(model, collection, index, NOW) for index in indices]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_items_are_identical_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import json; from tests.unit.generic.test_generate import items; "
        "print(json.dumps(items([0, 1, 999_999], 'uuid')))"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == json.loads(json.dumps(items([0, 1, 999_999], "uuid")))
    # Not one item three times: the indices differ in what they hold.
    assert len({json.dumps(item, sort_keys=True) for item in json.loads(done.stdout)}) == 3


def test_another_seed_makes_other_items() -> None:
    assert items([0, 1], "uuid", seed=7) != items([0, 1], "uuid", seed=8)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_field_of_the_example_is_in_every_item(strategy: str) -> None:
    for item in items([0, 1, 5_000, BIG - 1], strategy):
        assert list(item) == list(EXAMPLE)


def test_ids_by_strategy() -> None:
    assert [item["id"] for item in items([0, 1, BIG - 1], "counter")] == [1, 2, BIG]
    assert [item["id"] for item in items([0, 1, BIG - 1], "prefixed")] == ["wf_000001", "wf_000002", "wf_10000000"]
    assert [item["id"] for item in items([0, 1], "given")] == ["wf_abc123-0", "wf_abc123-1"]
    made = [item["id"] for item in items([0, 1, 2, BIG - 1], "uuid")]
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert len(set(made)) == 4
    # Neighbours do not share their last digits (the index is scrambled, not written plainly).
    assert len({text[-6:] for text in made}) == 4


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ids_and_lookup_fields_lead_back_to_their_item(strategy: str) -> None:
    model, collection = workflows(strategy)
    draw = random.Random(17)
    indices = [0, 1, 2, 9, 10, 99, 100, 999_999, BIG - 2, BIG - 1] + [draw.randrange(BIG) for _ in range(300)]
    for index in indices:
        item = generated_item(model, collection, index, NOW)
        for field in ("id", "name", "uid"):
            assert index_of(model, collection, field, str(item[field]), BIG) == index, (field, item[field])
    assert [items([0, 1], strategy)[i]["name"] for i in (0, 1)] == ["train-0", "train-1"]


def test_a_text_template_pads_the_index_and_names_the_id() -> None:
    first, last = items([0, BIG - 1], "prefixed")
    assert first["uid"] == "u-0000-wf_000001"
    assert last["uid"] == "u-9999999-wf_10000000"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_values_no_item_has_find_none(strategy: str) -> None:
    model, collection = workflows(strategy)
    item = generated_item(model, collection, 500, NOW)
    # Out of range: the collection holds 500 items now, so index 500 is gone.
    assert index_of(model, collection, "id", str(item["id"]), 500) is None
    assert index_of(model, collection, "name", item["name"], 500) is None
    for wrong in ("", "abc", "-1", "wf_", "wf_-00001", "wf_00000x", "001", " 1", "train-", "train-01", "train--1"):
        assert index_of(model, collection, "id", wrong, BIG) is None, wrong
        assert index_of(model, collection, "name", wrong, BIG) is None, wrong
    assert index_of(model, collection, "name", "other-3", BIG) is None
    assert index_of(model, collection, "uid", "u-3-wf_000004", BIG) is None  # not padded as the template pads
    # A field that is neither the id nor a lookup field finds nothing, whatever its value.
    assert index_of(model, collection, "status", "PENDING", BIG) is None


def test_a_uuid_made_for_another_seed_or_collection_is_no_item() -> None:
    ours, collection = workflows("uuid", seed=7)
    other_seed, _ = workflows("uuid", seed=8)
    made = str(generated_item(other_seed, collection, 3, NOW)["id"])
    assert index_of(other_seed, collection, "id", made, BIG) == 3
    assert index_of(ours, collection, "id", made, BIG) is None
    other_model, other_collection = workflows("uuid", seed=7, name="pools")
    elsewhere = str(generated_item(other_model, other_collection, 3, NOW)["id"])
    assert index_of(ours, collection, "id", elsewhere, BIG) is None
    mine = str(generated_item(ours, collection, 3, NOW)["id"])
    for wrong in (mine.upper(), mine.replace("-", ""), "{" + mine + "}", str(uuid.UUID(int=0)), str(uuid.uuid4())):
        assert index_of(ours, collection, "id", wrong, BIG) is None, wrong


def test_a_regex_alternation_is_an_enum_chosen_from_uniformly() -> None:
    statuses = [item["status"] for item in items(list(range(3_000)))]
    counts = {status: statuses.count(status) for status in set(statuses)}
    assert set(counts) == {"PENDING", "RUNNING", "COMPLETED"}
    assert all(800 < count < 1_200 for count in counts.values()), counts
    assert literal_choices("^(PENDING|RUNNING|COMPLETED)$") == ("PENDING", "RUNNING", "COMPLETED")
    assert literal_choices("(?:a|b\\.c)") == ("a", "b.c")
    assert literal_choices("ONLY") == ("ONLY",)
    assert literal_choices("^(a|b)+$") is None and literal_choices("\\d+") is None


def test_other_regexes_keep_a_matching_example_or_make_matching_text() -> None:
    made = items(list(range(200)))
    assert {item["code"] for item in made} == {"AB123"}  # the example matches: kept
    pools = {item["pool"] for item in made}
    assert len(pools) > 100 and all(contract_regex("pool-[a-z]{4}").fullmatch(pool) for pool in pools)


def test_numbers_booleans_and_overrides() -> None:
    made = items(list(range(1_000)))
    workers = [item["workers"] for item in made]
    assert all(type(value) is int and 0 <= value <= 10 for value in workers) and len(set(workers)) == 11
    costs = [item["cost"] for item in made]
    assert all(type(value) is float and 0 <= value <= 10 for value in costs) and len(set(costs)) > 500
    assert {item["preemptible"] for item in made} == {True, False}
    assert {item["priority"] for item in made} == {"LOW", "HIGH"}
    assert {item["gpus"] for item in made} == set(range(9))
    ratios = [item["ratio"] for item in made]
    assert all(type(value) is float and 0 <= value <= 1 for value in ratios)
    # A hooked field is the engine's to work out: here it stays the example's.
    assert {item["hooked"] for item in made} == {"from the example"}
    # Type-matched text keeps the example unless it is a label; nested values are copies of the example.
    assert {item["description"] for item in made} == {"a workflow"}
    assert all(item["spec"] == EXAMPLE["spec"] and item["tags"] == ["a", "b"] for item in made)
    made[0]["spec"]["tasks"][0]["name"] = "changed"
    assert EXAMPLE["spec"]["tasks"][0]["name"] == "t"
    # No rule, no override: the example's value (the contract asks for it exactly).
    assert {item["owner"] for item in made} == {"me"}


def test_ages_spread_from_seconds_to_months_within_their_bounds() -> None:
    made = items(list(range(1_000)))
    ages = [(NOW - moment(item["submitted_at"])).total_seconds() for item in made]
    assert all(0 <= age <= 180 * 86_400 + 1 for age in ages)
    assert min(ages) < 3_600 and max(ages) > 30 * 86_400
    # A date-time matcher without bounds in the model file: from a minute to 180 days.
    ruled = [(NOW - moment(item["created_at"])).total_seconds() for item in made]
    assert all(60 - 0.001 <= age <= 180 * 86_400 + 0.001 for age in ruled)
    assert min(ruled) < 3_600 and max(ruled) > 30 * 86_400
    days = {item["day"] for item in made}
    assert all(len(day) == 10 and "2025-07-01" <= day <= "2026-01-01" for day in days) and len(days) > 50


def test_times_are_written_like_the_example_or_the_matchers_format() -> None:
    item = items([3])[0]
    assert item["submitted_at"].endswith("Z") and len(item["submitted_at"]) == len("2024-05-01T12:00:00Z")
    assert item["created_at"].endswith("+00:00") and len(item["created_at"]) == len(EXAMPLE["created_at"])
    # The matcher's own format wins over the example's look.
    assert item["updated_at"].endswith("Z") and len(item["updated_at"]) == len("2024-05-01T12:00:00.000Z")


def test_an_age_from_the_model_file_keeps_the_fields_date_matcher_format() -> None:
    model, collection = workflows()
    rules = {**RULES, "submitted_at": ({"match": "datetime", "format": "yyyy-MM-dd HH:mm"},)}
    item = generated_item(model, replace(collection, rules=rules), 3, NOW)
    written = datetime.strptime(item["submitted_at"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert written <= NOW


def test_numbers_near_the_examples_magnitude() -> None:
    model, collection = workflows()
    big = replace(collection, example={**EXAMPLE, "workers": 500, "cost": 40.0})
    made = [generated_item(model, big, index, NOW) for index in range(300)]
    assert max(item["workers"] for item in made) > 500 and all(item["workers"] <= 1_000 for item in made)
    assert max(item["cost"] for item in made) > 40 and all(item["cost"] <= 80 for item in made)


def test_a_late_item_costs_what_the_first_costs(monkeypatch: pytest.MonkeyPatch) -> None:
    """By construction: the lines of generate.py run for item 9,999,999 are as many as for item 0, so
    nothing in it walks the index (a loop over it would run its lines millions of times)."""
    model, collection = workflows("uuid")
    warm = generated_item(model, collection, 5, NOW)  # the caches of regexes, templates and lookups filled first
    for field in ("id", "name", "uid"):
        index_of(model, collection, field, str(warm[field]), BIG)

    def lines_run(index: int) -> int:
        count = 0
        source = generate.__file__

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            nonlocal count
            if frame.f_code.co_filename != source:
                return None
            if event == "line":
                count += 1
            return tracer

        sys.settrace(tracer)
        try:
            item = generated_item(model, collection, index, NOW)
            for field in ("id", "name", "uid"):
                assert index_of(model, collection, field, str(item[field]), BIG) == index
        finally:
            sys.settrace(None)
        return count

    first = lines_run(0)
    assert first > 50 and lines_run(BIG - 1) == first


def test_count_of_takes_the_control_planes_override_else_the_models() -> None:
    _, collection = workflows()
    assert count_of(collection, None) == BIG
    assert count_of(collection, 100) == 100 and count_of(collection, 0) == 0
    assert count_of(replace(collection, generated=None), None) == 0
    for wrong in (-1, MAX_GENERATED + 1):
        with pytest.raises(Invalid, match="10,000,000"):
            count_of(collection, wrong)
