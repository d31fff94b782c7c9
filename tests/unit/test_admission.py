"""The doorkeeper in front of the kept answers and compiled interactions: a key is let in on its second sighting;
and what is let in is kept while it is recent."""

from __future__ import annotations

import time

from app.contract.admission import Doorkeeper, RecentlyKept


def test_a_key_is_let_in_the_second_time_it_is_seen() -> None:
    door = Doorkeeper(window=100)

    assert door.admit(("GET", "/jobs", "", (), b"")) is False
    assert door.admit(("GET", "/jobs", "", (), b"")) is True
    assert door.admit(("GET", "/jobs", "", (), b"")) is True


def test_keys_seen_once_are_mostly_turned_away() -> None:
    door = Doorkeeper(window=1000)

    let_in = sum(door.admit(("GET", f"/items/{number}")) for number in range(1000))

    # Keys are remembered as bits by hash: a collision lets a new key in early, rarely.
    assert let_in < 1000 / 16


def test_what_was_turned_away_a_whole_window_ago_is_forgotten() -> None:
    # Whole numbers hash to themselves: these 65 keys take 65 different slots, so no collision blurs the count.
    door = Doorkeeper(window=64)
    door.admit(5000)
    for number in range(64):
        door.admit(number)

    assert door.admit(5000) is False


def test_kept_values_are_all_dropped_when_the_bound_is_reached() -> None:
    kept: RecentlyKept[str, int] = RecentlyKept(limit=3, span_s=3600)
    for number, key in enumerate("abc"):
        kept.put(key, number)

    kept.put("d", 3)

    assert [kept.get(key) for key in "abcd"] == [None, None, None, 3]
    assert len(kept) == 1


def test_kept_values_are_all_dropped_once_the_first_is_older_than_the_span() -> None:
    kept: RecentlyKept[str, int] = RecentlyKept(limit=100, span_s=0.2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1

    time.sleep(0.3)
    kept.put("c", 3)

    assert [kept.get(key) for key in "abc"] == [None, None, 3]


def test_a_dropped_key_is_no_longer_kept_and_dropping_an_unknown_one_is_harmless() -> None:
    kept: RecentlyKept[str, int] = RecentlyKept(limit=100, span_s=3600)
    kept.put("a", 1)

    kept.drop("a")
    kept.drop("never kept")

    assert kept.get("a") is None
    assert len(kept) == 0
