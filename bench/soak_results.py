"""What the soak checks and writes once the load has stopped: the database against the ledger, the server's log,
the CPU the run had, and the JSON of every figure."""

from __future__ import annotations

import json
import os
import resource
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import soak_report as report
from .compare import machine
from .soak_server import stored
from .soak_traffic import Ledger

if TYPE_CHECKING:
    from .soak import Plan, Soak
    from .soak_server import Mock


def server_log_findings(log: str) -> dict[str, Any]:
    lines = log.splitlines()
    errors = [line for line in lines if " ERROR " in line or " CRITICAL " in line]
    return {
        "tracebacks": sum("Traceback" in line for line in lines),
        "error_lines": len(errors),
        "first_errors": errors[:5],
        "contract_breaks": sum("breaks the contract" in line for line in lines),
    }


def verify(ledger: Ledger, database_url: str, started_wall: float) -> dict[str, Any]:
    """Every acknowledged write against the database, read directly once the server has stopped.

    Rows stored that no answer acknowledged are listed with when they were created (seconds since the load
    began): a write whose commit reached PostgreSQL just as an outage cut the connection is stored, yet its
    client was told 503.
    """
    found = stored(database_url)
    missing_jobs = sorted(ledger.jobs - found["jobs"].keys())
    missing_runs = sorted(r for r, job in ledger.runs.items() if found["runs"].get(r, (None,))[0] != job)
    wrong_uploads = sorted(
        f"{job}/{key}" for (job, key), sha in ledger.uploads.items() if found["uploads"].get((job, key)) != sha
    )

    def unacknowledged(rows: dict[int, Any], acknowledged: Any) -> list[dict[str, Any]]:
        extra = sorted(set(rows) - set(acknowledged))
        return [{"id": i, "created_s": round(_created(rows[i]) - started_wall, 2)} for i in extra[:50]]

    return {
        "jobs": {
            "acknowledged": len(ledger.jobs),
            "stored": len(found["jobs"]),
            "missing": missing_jobs[:20],
            "stored_unacknowledged": unacknowledged(found["jobs"], ledger.jobs),
        },
        "runs": {
            "acknowledged": len(ledger.runs),
            "stored": len(found["runs"]),
            "missing": missing_runs[:20],
            "stored_unacknowledged": unacknowledged(found["runs"], ledger.runs),
        },
        "uploads": {
            "acknowledged": len(ledger.uploads),
            "stored": len(found["uploads"]),
            "missing_or_changed": wrong_uploads[:20],
        },
        "missing_total": len(missing_jobs) + len(missing_runs) + len(wrong_uploads),
        "duplicate_ids": ledger.duplicates[:20],
    }


def _created(row: Any) -> float:
    """The creation time of a stored row (its created_ts, UTC), as a Unix time.

    Read with plain SQL, so SQLite hands back the stored text and PostgreSQL a naive datetime.
    """
    created = row[-1] if isinstance(row, tuple) else row
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return float(created.timestamp())


def cpu_summary(samples: Sequence[report.RssSample], elapsed: float) -> dict[str, Any]:
    """Cores used on average by the server, by this soak process (client threads, schedule, checks) and by the
    whole machine: on a shared machine the last says how much of it the soak had."""
    usable = [s for s in samples if s.server_cpu_s is not None and s.machine_busy_s is not None]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures: dict[str, Any] = {
        "server_cores": None,
        "machine_busy_cores": None,
        "soak_process_cores": (usage.ru_utime + usage.ru_stime) / elapsed if elapsed else None,
        "machine_cores": os.cpu_count(),
    }
    if len(usable) >= 2 and usable[-1].at > usable[0].at:
        first, last = usable[0], usable[-1]
        span = last.at - first.at
        figures["server_cores"] = (last.server_cpu_s - first.server_cpu_s) / span  # type: ignore[operator]
        figures["machine_busy_cores"] = (last.machine_busy_s - first.machine_busy_s) / span  # type: ignore[operator]
    figures["sentence"] = (
        "CPU, average over the run: the server {server} cores, this soak process {soak} cores, the whole machine "
        "{machine} of its {total} cores busy (the server, the soak, PostgreSQL and any other work on it)."
    ).format(
        server=_cores(figures["server_cores"]),
        soak=_cores(figures["soak_process_cores"]),
        machine=_cores(figures["machine_busy_cores"]),
        total=figures["machine_cores"],
    )
    return figures


def _cores(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def write_json(
    plan: Plan,
    soak: Soak,
    mock: Mock,
    rows: list[report.Interval],
    trend: dict[str, float | None],
    verification: dict[str, Any],
    log: dict[str, Any],
    server_exit: int | None,
    verdicts: list[report.Verdict],
    faults: Counter[str],
    load: dict[str, Any],
) -> None:
    path = plan.json_path
    assert path is not None
    by_op: dict[str, Counter[str]] = {}
    for o in soak.outcomes:
        by_op.setdefault(o.op, Counter())[str(o.status or o.failure)] += 1
    document = {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(plan).items() if k != "postgres_url"},
        "machine": machine(),
        "server": {"command": mock.command[1:], "exit_code": server_exit, "log": log},
        "intervals": report.interval_json(rows),
        "outages": [asdict(outage) for outage in soak.outages],
        "rss": [asdict(s) for s in soak.rss],
        "rss_trend": trend,
        "answers_by_request": {op: dict(counts) for op, counts in sorted(by_op.items())},
        "verification": verification,
        "verdicts": [{"check": v.check, "measured": v.measured, "verdict": v.mark} for v in verdicts],
        "faults": dict(faults.most_common(50)),
        "skipped": soak.skipped,
        "cpu": load,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"... figures written to {path}", file=sys.stderr, flush=True)
