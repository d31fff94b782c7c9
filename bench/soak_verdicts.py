"""The soak's verdicts: what must hold after minutes of steady load with outages and bad input."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .soak_report import Judged, Outage, Outcome, Verdict, good_p99_ms, memory_windows, windows

# "Quickly": a request must learn the database is away in well under a client's own timeout.
OUTAGE_ANSWER_LIMIT_S = 5.0
RECOVERY_LIMIT_S = 30.0
# Issue 15's bar for the drift (it was 2x until the drift was explained: spooled answers, bench/SOAK.md).
P99_GROWTH_LIMIT = 1.5
# Memory and latency trends need minutes to mean anything.
TREND_MIN_DURATION_S = 180.0
WRITE_OPS = {"register job", "submit runs", "upload"}


@dataclass
class Findings:
    duration: float
    rate: float
    rss_slope_limit: float
    outcomes: Sequence[Outcome]
    judged: Judged
    outages: Sequence[Outage]
    rss_trend: dict[str, float | None]
    verification: dict[str, Any]
    server_log: dict[str, Any]
    server_exit: int | None
    died_at: float | None  # when the server exited by itself, if it did
    skipped: int


def judge_run(f: Findings) -> list[Verdict]:
    return [
        _unexpected_5xx(f),
        _no_answer(f),
        _wrong_answers(f),
        _outage_answers(f),
        _recoveries(f),
        _acknowledged_writes(f),
        _memory(f),
        _latency_trend(f),
        _server_log(f),
        _schedule(f),
        _shutdown(f),
    ]


def _unexpected_5xx(f: Findings) -> Verdict:
    found = [o for o, fault in zip(f.outcomes, f.judged.fault, strict=True) if fault and (o.status or 0) >= 500]
    expected = sum(
        1
        for o, fault, during in zip(f.outcomes, f.judged.fault, f.judged.in_outage, strict=True)
        if during and not fault and o.status == 503
    )
    kinds = ", ".join(f"{n} {status}" for status, n in sorted(Counter(o.status for o in found).items()))
    measured = f"{len(found)} ({kinds})" if found else "0"
    return Verdict(f"5xx other than the outages' 503s ({expected:,} of those)", measured, not found)


def _no_answer(f: Findings) -> Verdict:
    failures = Counter(o.failure for o in f.outcomes if o.failure)
    measured = ", ".join(f"{n} {kind}" for kind, n in sorted(failures.items())) or "0"
    return Verdict("requests without an answer (connection errors, timeouts)", measured, not failures)


def _wrong_answers(f: Findings) -> Verdict:
    wrong = [
        fault
        for o, fault in zip(f.outcomes, f.judged.fault, strict=True)
        if fault and not o.failure and (o.status or 0) < 500
    ]
    measured = f"{len(wrong)}" + (f", e.g. {wrong[0][:140]}" if wrong else "")
    return Verdict("answers wrong for their request (status or body), 5xx aside", measured, not wrong)


def _outage_answers(f: Findings) -> Verdict:
    if not f.outages:
        return Verdict("503 problem+json with Retry-After during outages, quickly", "no outage in this run", None)
    answers = [
        o.end - o.start
        for o, during in zip(f.outcomes, f.judged.in_outage, strict=True)
        if during and o.status == 503 and o.outage_answer
    ]
    if not answers:
        return Verdict("503 problem+json with Retry-After during outages, quickly", "no 503 seen", False)
    slowest = max(answers)
    measured = f"{len(answers):,} such 503s, slowest {slowest:.2f} s (limit {OUTAGE_ANSWER_LIMIT_S:g} s)"
    return Verdict(
        "503 problem+json with Retry-After during outages, quickly", measured, slowest <= OUTAGE_ANSWER_LIMIT_S
    )


def _recoveries(f: Findings) -> Verdict:
    if not f.outages:
        return Verdict("recovery after each outage, no restart", "no outage in this run", None)
    parts, passed = [], True
    for outage in f.outages:
        restored = outage.restored_at if outage.restored_at is not None else outage.cut_at
        writes = [
            o.end for o in f.outcomes if o.op in WRITE_OPS and o.status == 200 and not o.problem and o.start >= restored
        ]
        health = f"{outage.recovered_at - restored:.1f} s" if outage.recovered and outage.recovered_at else "never"
        write = f"{min(writes) - restored:.1f} s" if writes else "never"
        parts.append(f"{outage.cut_at:.0f} s: /health {health}, write {write}")
        passed = passed and outage.recovered and bool(writes) and min(writes) - restored <= RECOVERY_LIMIT_S
    return Verdict(
        f"recovery after each outage: /health 200 and an acknowledged write within {RECOVERY_LIMIT_S:g} s",
        "; ".join(parts),
        passed,
    )


def _acknowledged_writes(f: Findings) -> Verdict:
    v = f.verification
    measured = (
        f"jobs {v['jobs']['acknowledged']:,} acknowledged / {v['jobs']['stored']:,} stored, "
        f"runs {v['runs']['acknowledged']:,} / {v['runs']['stored']:,}, "
        f"uploads {v['uploads']['acknowledged']:,} / {v['uploads']['stored']:,}; missing or changed: {v['missing_total']}"
    )
    extra = len(v["jobs"]["stored_unacknowledged"]) + len(v["runs"]["stored_unacknowledged"])
    if extra:
        times = sorted({row["created_s"] for kind in ("jobs", "runs") for row in v[kind]["stored_unacknowledged"]})
        measured += (
            f"; stored but answered with an error: {extra}, created at {', '.join(f'{t:.1f}' for t in times[:8])} s"
        )
    if v["duplicate_ids"]:
        measured += f"; ids acknowledged twice: {len(v['duplicate_ids'])}"
    return Verdict(
        "every acknowledged write in the database (uploads with their sha256)",
        measured,
        v["missing_total"] == 0 and not v["duplicate_ids"],
    )


def _memory(f: Findings) -> Verdict:
    t = f.rss_trend
    (a0, a1), (b0, b1) = memory_windows(f.duration, f.outages)
    after = "warm-up and the first outage" if a0 > windows(f.duration)[0][0] else "warm-up"
    check = f"RSS flat: first minute after {after} ({a0:.0f}–{a1:.0f} s) vs last ({b0:.0f}–{b1:.0f} s)"
    slope = t.get("slope_mb_per_min")
    if slope is None or t.get("first_mb") is None or t.get("last_mb") is None:
        return Verdict(check, "no RSS samples", None)
    fit = t.get("fit_mb_per_min")
    measured = (
        f"{t['first_mb']:.1f} MB -> {t['last_mb']:.1f} MB: {slope:+.2f} MB/min"
        f" (least-squares fit {fit:+.2f} MB/min; limit {f.rss_slope_limit:g})"
        if fit is not None
        else f"{t['first_mb']:.1f} MB -> {t['last_mb']:.1f} MB: {slope:+.2f} MB/min"
    )
    if t.get("before_outages_mb") is not None and after != "warm-up":
        measured += f"; before the first outage {t['before_outages_mb']:.1f} MB"
    if f.duration < TREND_MIN_DURATION_S:
        return Verdict(check, measured + f"; not judged under {TREND_MIN_DURATION_S:.0f} s", None)
    return Verdict(check, measured, slope <= f.rss_slope_limit)


def _latency_trend(f: Findings) -> Verdict:
    first_window, last_window = windows(f.duration)
    first = good_p99_ms(f.outcomes, f.judged, first_window)
    last = good_p99_ms(f.outcomes, f.judged, last_window)
    check = f"good p99 of the last minute within {P99_GROWTH_LIMIT:g}x the first after warm-up"
    if first is None or last is None:
        return Verdict(check, "no good requests in a window", None)
    measured = f"{first:.1f} ms -> {last:.1f} ms"
    if f.duration < TREND_MIN_DURATION_S:
        return Verdict(check, measured + f"; not judged under {TREND_MIN_DURATION_S:.0f} s", None)
    return Verdict(check, measured, last <= P99_GROWTH_LIMIT * first)


def _server_log(f: Findings) -> Verdict:
    log = f.server_log
    measured = (
        f"{log['tracebacks']} tracebacks, {log['contract_breaks']} contract breaks, {log['error_lines']} ERROR lines"
    )
    return Verdict(
        "server log: no traceback, no answer breaking its contract",
        measured,
        not log["tracebacks"] and not log["contract_breaks"],
    )


def _schedule(f: Findings) -> Verdict:
    sent = len(f.outcomes)
    lags = sorted(max(0.0, o.start - o.due) for o in f.outcomes)
    worst = lags[-1] if lags else 0.0
    measured = (
        f"{sent:,} sent of {sent + f.skipped:,} scheduled ({sent / f.duration:.1f} req/s of {f.rate:g}), "
        f"{f.skipped} skipped, worst wait for a free client {worst:.2f} s"
    )
    check = "the steady rate was kept (no request skipped)"
    if f.duration < TREND_MIN_DURATION_S:
        return Verdict(check, measured + f"; not judged under {TREND_MIN_DURATION_S:.0f} s", None)
    return Verdict(check, measured, f.skipped == 0)


def _shutdown(f: Findings) -> Verdict:
    check = "the server runs to the end and stops cleanly on SIGTERM"
    if f.died_at is not None:
        return Verdict(check, f"exited by itself with {f.server_exit} at {f.died_at:.0f} s", False)
    measured = "still running 20 s after SIGTERM" if f.server_exit is None else f"exit code {f.server_exit}"
    return Verdict(check, measured, f.server_exit == 0)
