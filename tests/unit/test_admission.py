"""The doorkeeper in front of the kept answers and compiled interactions: a key is let in on its second sighting."""

from __future__ import annotations

from app.contract.admission import Doorkeeper


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
