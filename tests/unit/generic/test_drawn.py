"""The cheap draws of generated items give exactly what random.Random gave before them: the draws themselves
and a pinned item, so a Python whose random module changes is noticed here rather than as pages that silently
differ from the ones users have seen; and the copies and written times items are made of."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import pytest

from app.resources.drawn import Ages, FieldSeeds, copied, time_writer
from app.resources.generate import generated_item
from app.resources.timeline import SeededOnFirstDraw as seeded_on_first_draw
from app.resources.timeline import seeded
from tests.unit.generic.test_generate import NOW, workflows

SEEDS = [FieldSeeds(seed, "workflows", field) for seed in (0, 7, 2**40) for field in ("status", "gpus", "ratio")]


@pytest.mark.parametrize("seeds", SEEDS)
def test_each_draw_is_the_one_random_random_makes(seeds: FieldSeeds) -> None:
    for index in (0, 1, 2, 999_999, 9_999_999):
        assert seeds.below(index, 3) == random.Random(seeds.number(index)).randrange(3)
        assert 5 + seeds.below(index, 11) == random.Random(seeds.number(index)).randint(5, 15)
        assert 0.5 + (2.5 - 0.5) * seeds.unit(index) == random.Random(seeds.number(index)).uniform(0.5, 2.5)
        assert seeds.full(index).random() == seeds.twister(index).random() == seeds.unit(index)


def test_the_seed_is_the_digest_of_the_joined_parts() -> None:
    joined = "\x1f".join(map(str, (7, "workflows", 42, "status"))).encode()
    expected = int.from_bytes(hashlib.blake2b(joined, digest_size=8).digest(), "little")
    assert FieldSeeds(7, "workflows", "status").number(42) == expected


def test_a_pinned_item_keeps_its_values() -> None:
    """Item 12,345 of the unit tests' workflows, as the generator made it before these draws existed."""
    model, collection = workflows("uuid")
    item = generated_item(model, collection, 12_345, NOW)
    assert {k: item[k] for k in PINNED} == PINNED


# Made by generate.py at commit 58d2a6c (a random.Random per field).
PINNED: dict[str, object] = {
    "status": "PENDING",
    "priority": "LOW",
    "gpus": 5,
    "workers": 2,
    "preemptible": False,
    "name": "train-12345",
}


def test_ages_fall_in_their_range() -> None:
    anchor = datetime(2030, 1, 1, tzinfo=UTC)
    seeds = FieldSeeds(3, "jobs", "created")
    ages = [(anchor - Ages(60, 86_400).drawn(anchor, seeds.unit(i))).total_seconds() for i in range(1_000)]
    assert 60 <= min(ages) < 120 and 40_000 < max(ages) <= 86_400


def test_an_item_is_made_alike_each_time_and_its_copies_are_its_own() -> None:
    model, collection = workflows("uuid")
    first, again = generated_item(model, collection, 12_345, NOW), generated_item(model, collection, 12_345, NOW)
    assert first == again
    first["spec"]["tasks"][0]["name"] = "changed"
    assert generated_item(model, collection, 12_345, NOW)["spec"]["tasks"][0]["name"] == "t"


def test_copies_are_deep_and_times_are_written_like_the_example() -> None:
    original = {"spec": {"tasks": [{"name": "t"}]}}
    made = copied(original)
    made["spec"]["tasks"][0]["name"] = "changed"
    assert original == {"spec": {"tasks": [{"name": "t"}]}}
    moment = datetime(2030, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
    assert time_writer("2024-05-01T12:00:00Z", None)(moment) == "2030-01-02T03:04:05Z"
    assert time_writer("2024-05-01T12:00:00.000+00:00", None)(moment) == "2030-01-02T03:04:05.678+00:00"
    assert time_writer(1_700_000_000_000, None)(moment) == int(moment.timestamp() * 1000)
    assert time_writer(1_700_000_000, None)(moment) == int(moment.timestamp())
    assert time_writer("x", "yyyy-MM-dd")(moment) == "2030-01-02"


def test_a_generator_seeded_on_its_first_draw_draws_what_random_random_draws() -> None:
    for number in (0, 1, 2**32, 0x9E3779B97F4A7C15, 2**64 - 1):
        eager, lazy = random.Random(number), seeded_on_first_draw(number)
        for draw in (eager, lazy):
            draw.seen = [  # type: ignore[attr-defined]
                draw.random(),
                draw.randint(1, 10**9),
                draw.uniform(2, 15),
                draw.choice("abcdef"),
                draw.gauss(0, 1),
                draw.sample(range(100), 5),
                draw.getrandbits(70),
            ]
        assert eager.seen == lazy.seen  # type: ignore[attr-defined]
    assert seeded(17, "jobs/1", "state").random() == random.Random(seeded(17, "jobs/1", "state")._number).random()
