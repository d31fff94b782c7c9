"""How long a year of results takes to build, and how big the archive is (issue 14's closing figures).

Run from the project root::

    python -m bench.results_archive            # 365 days, 3 conditions, median of 5 builds
    python -m bench.results_archive --days 30  # another period

It builds the DONE archive of one run (app/domain/results.py) for a model with three conditions (a
five-state influenza with a meta agent's state, a two-state behaviour, a two-state vaccination), five times,
and prints the median build time, the fastest and slowest, the zip's size and its member count. This script
reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import zipfile
from datetime import date, timedelta

from app.domain.results import Period, RunOutputs, conditions_in_model, done_archive

# Three conditions, the shapes a user's model file takes: nested states, a state added from outside its
# condition, and a condition declared by a states list.
MODEL = """
condition FLU {
    start_state = Susceptible
    meta_start_state = Import
    state Import { import_count(10) wait() next() }
    state Susceptible { wait() next() }
    state Exposed { wait(48) next(Infectious) }
    state Infectious { wait(96) next(Recovered) }
    state Recovered { wait() next() }
}
condition ISOLATE {
    start_state = No
    state No { wait() next() }
}
state ISOLATE.Yes { wait(72) next(No) }
condition VACCINE {
    states = Unvaccinated Vaccinated
}
"""
BUILDS = 5


def main() -> None:
    """Build the archive BUILDS times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="length of the run's period (default 365)")
    days = parser.parse_args().days
    start = date(2024, 1, 1)
    outputs = RunOutputs(1, 1, Period(start, start + timedelta(days=days - 1)), MODEL, ("Loving_County_TX",))
    timings = []
    archive = b""
    for _ in range(BUILDS):
        started = time.perf_counter()
        archive = done_archive(outputs)
        timings.append(time.perf_counter() - started)
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        members = opened.infolist()
    unpacked = sum(member.file_size for member in members)
    conditions = conditions_in_model(MODEL)
    print(f"period: {days} days; conditions: {', '.join(f'{c.name} ({len(c.states)} states)' for c in conditions)}")
    print(f"build time: median {statistics.median(timings) * 1000:.1f} ms of {BUILDS} builds", end=" ")
    print(f"(fastest {min(timings) * 1000:.1f} ms, slowest {max(timings) * 1000:.1f} ms)")
    print(f"zip size: {len(archive):,} bytes ({unpacked:,} unpacked) in {len(members)} members")


if __name__ == "__main__":
    main()
