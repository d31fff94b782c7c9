"""The results archive of run 978 that the S3 pact answers with: tiny, and the same bytes on every run.

It is laid out the way epx 1.2.2 reads FRED 11 output: members under `work/outputs/`, the
`conditions.json` marker that selects the FRED 11 reader, and space-separated `<sim_day> <value>` lines
in `DAILY/`, one per day of the run's period (2024-01-01 to 2024-01-03).
"""

from __future__ import annotations

import io
import zipfile

CONDITION = "INF"
PERIOD = ("2024-01-01", "2024-01-02", "2024-01-03")
POPULATION = 1000
# Agents in each state of INF per day: a small outbreak that starts, grows and begins to recover.
STATE_COUNTS = {"S": (990, 975, 950), "I": (10, 20, 35), "R": (0, 5, 15)}
NEW_INFECTED = (10, 15, 30)
EPI_WEEK = "2024.01"  # the MMWR week of all three days (it began on Sunday 2023-12-31)


def _daily(values: tuple[object, ...]) -> str:
    return "".join(f"{day} {value}\n" for day, value in enumerate(values))


def output_files() -> dict[str, str]:
    """Each file of the run's output directory, by its path under `work/outputs/`."""
    days = len(PERIOD)
    files = {
        "conditions.json": f'["{CONDITION}"]\n',
        "DAILY/Date.txt": _daily(PERIOD),
        "DAILY/Popsize.txt": _daily((POPULATION,) * days),
        "DAILY/EpiWeek.txt": _daily((EPI_WEEK,) * days),
        f"DAILY/{CONDITION}.newI.txt": _daily(NEW_INFECTED),
        f"DAILY/{CONDITION}.totI.txt": _daily(tuple(sum(NEW_INFECTED[: day + 1]) for day in range(days))),
        "USER_OUTPUT/print_output.txt": "".join(f"day {day}: outbreak under way\n" for day in range(days)),
        "logs.txt": "[2024-01-01T00:00:00.000Z] INFO: simulation of 3 days finished\n",
    }
    for state, counts in STATE_COUNTS.items():
        files[f"DAILY/{CONDITION}.{state}.txt"] = _daily(counts)
    return files


def results_archive() -> bytes:
    """The zip the client downloads and extracts into `results/978/`.

    Members are stored (not deflated, whose bytes can change with the zlib version) with fixed
    timestamps and attributes, in a fixed order, so the bytes in the pact never change.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in sorted(output_files().items()):
            member = zipfile.ZipInfo(f"work/outputs/{name}", date_time=(2024, 1, 1, 0, 0, 0))
            member.create_system = 3
            member.external_attr = 0o100644 << 16
            archive.writestr(member, text)
    return buffer.getvalue()
