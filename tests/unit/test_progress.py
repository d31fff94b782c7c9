"""app/progress.py away from a terminal: one line per tenth passed, sizes as people read them."""

from __future__ import annotations

import io

from app.progress import BYTES, amount, progress


def test_a_pipe_gets_one_line_per_tenth_passed_and_one_at_the_end() -> None:
    shown = io.StringIO()
    with progress("verified", 4, unit="pact files", stream=shown) as advance:
        for _ in range(4):
            advance()
    assert shown.getvalue().splitlines() == [
        "verified 1 of 4 pact files (25%)",
        "verified 2 of 4 pact files (50%)",
        "verified 3 of 4 pact files (75%)",
        "verified 4 of 4 pact files (100%)",
    ]


def test_many_small_steps_give_at_most_ten_lines_and_never_go_back_or_past_the_total() -> None:
    shown = io.StringIO()
    with progress("seeded", 1_000, stream=shown) as advance:
        for _ in range(999):
            advance()
        advance.to(10)  # a late report of less done changes nothing
        advance(50)  # past the total: stops at the total
    lines = shown.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "seeded 100 of 1,000 (10%)"
    assert lines[-1] == "seeded 1,000 of 1,000 (100%)"
    assert advance.done == 1_000


def test_nothing_to_do_shows_nothing() -> None:
    shown = io.StringIO()
    with progress("verified", 0, stream=shown) as advance:
        advance()
    assert shown.getvalue() == ""


def test_bytes_read_as_sizes() -> None:
    shown = io.StringIO()
    with progress("read pact files", 52_000_000, unit=BYTES, stream=shown) as advance:
        advance(5_200_000)
    assert shown.getvalue() == "read pact files 5.2 MB of 52.0 MB (10%)\n"
    assert amount(999, BYTES) == "999 B"
    assert amount(1_500, BYTES) == "1.5 kB"
    assert amount(3_000_000_000_000, BYTES) == "3000.0 GB"
