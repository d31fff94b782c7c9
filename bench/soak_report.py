"""What a soak measured, per interval and as a whole: counts, latency, RSS, and the verdicts.

Every request is judged twice: by its own expectation (the right status and body, see bench.soak_traffic) and
by when it ran. A request whose time in flight overlaps an outage (from the cut until ``/health`` is back) is
counted in the during-outage class, where a 503 problem+json with Retry-After is the right answer too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .loadgen import percentile

MB = 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    """One request; times in seconds since the load began."""

    op: str
    kind: str  # good, bad, control
    due: float  # when the steady rate wanted it sent
    start: float
    end: float
    status: int | None
    failure: str | None  # timeout or connection: no answer at all
    problem: str | None  # why the answer is wrong for this request, outside an outage
    outage_answer: bool  # the answer a request gets while the database is away (503 problem+json, ...)


@dataclass
class Outage:
    cut_at: float
    restored_at: float | None = None
    recovered_at: float | None = None  # first /health 200 after the restore; the give-up time if none came
    recovered: bool = False
    connections_reset: int = 0

    def covers(self, start: float, end: float, now: float) -> bool:
        until = self.recovered_at if self.recovered_at is not None else now
        return start <= until and end >= self.cut_at


@dataclass(frozen=True)
class RssSample:
    """The server's memory each second, with CPU counters to tell how busy it and the machine were."""

    at: float
    total: int
    processes: dict[int, int]  # pid -> VmRSS bytes
    server_cpu_s: float | None = None  # CPU seconds used so far by the server's live processes
    machine_busy_s: float | None = None  # CPU seconds the whole machine has been busy since boot


@dataclass
class Interval:
    start: float
    end: float
    good: int = 0
    bad: int = 0
    control: int = 0
    during_outage: int = 0
    ok_2xx: int = 0
    client_4xx: int = 0
    server_5xx: int = 0
    outage_503: int = 0  # of server_5xx: the expected answers while the database was away
    errors: int = 0
    wrong: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    lag_p99_ms: float | None = None
    rss_mb: float | None = None
    server_cores: float | None = None  # CPU the server's processes used, in cores
    machine_cores: float | None = None  # CPU the whole machine used (the soak, the mock, anything else)


@dataclass(frozen=True)
class Verdict:
    check: str
    measured: str
    passed: bool | None  # None: not judged (the run was too short, or there was nothing to judge)

    @property
    def mark(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


@dataclass
class Judged:
    """Outcomes sorted into what a reader of the verdicts needs."""

    in_outage: list[bool] = field(default_factory=list)
    fault: list[str | None] = field(default_factory=list)  # why each request is a fault, or None


def judge(outcomes: Sequence[Outcome], outages: Sequence[Outage], now: float) -> Judged:
    judged = Judged()
    for o in outcomes:
        during = any(outage.covers(o.start, o.end, now) for outage in outages)
        judged.in_outage.append(during)
        if o.failure:
            judged.fault.append(f"{o.op}: no answer ({o.failure})")
        elif during and o.outage_answer:
            judged.fault.append(None)
        else:
            judged.fault.append(f"{o.op}: {o.problem}" if o.problem else None)
    return judged


def _ms(values: list[float], percent: float) -> float | None:
    return percentile(sorted(values), percent) * 1000 if values else None


def intervals(
    outcomes: Sequence[Outcome],
    judged: Judged,
    rss: Sequence[RssSample],
    length: float,
    duration: float,
) -> list[Interval]:
    """Per ``length`` seconds of the run, by the time each request was sent."""
    count = max(1, math.ceil(duration / length - 1e-9))
    rows = [Interval(i * length, min(duration, (i + 1) * length)) for i in range(count)]
    latencies: list[list[float]] = [[] for _ in rows]
    lags: list[list[float]] = [[] for _ in rows]
    for o, during, fault in zip(outcomes, judged.in_outage, judged.fault, strict=True):
        row_index = min(count - 1, int(o.start // length))
        row = rows[row_index]
        if during:
            row.during_outage += 1
        else:
            setattr(row, o.kind, getattr(row, o.kind) + 1)
            if o.kind == "good":
                latencies[row_index].append(o.end - o.start)
        lags[row_index].append(max(0.0, o.start - o.due))
        if o.failure:
            row.errors += 1
        elif o.status is not None:
            if 200 <= o.status < 300:
                row.ok_2xx += 1
            elif 400 <= o.status < 500:
                row.client_4xx += 1
            elif o.status >= 500:
                row.server_5xx += 1
                row.outage_503 += int(during and fault is None)
        row.wrong += int(fault is not None and not o.failure)
    for row, samples, waits in zip(rows, latencies, lags, strict=True):
        row.p50_ms, row.p99_ms, row.lag_p99_ms = _ms(samples, 50), _ms(samples, 99), _ms(waits, 99)
        inside = [s for s in rss if row.start <= s.at < row.end or (s.at == duration == row.end)]
        row.rss_mb = sum(s.total for s in inside) / len(inside) / MB if inside else None
        row.server_cores = _rate(inside, "server_cpu_s")
        row.machine_cores = _rate(inside, "machine_busy_s")
    return rows


def _rate(samples: Sequence[RssSample], counter: str) -> float | None:
    """How fast a CPU counter grew over these samples, in cores."""
    points = [(s.at, getattr(s, counter)) for s in samples if getattr(s, counter) is not None]
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return max(0.0, (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]))


def windows(duration: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The first minute after warm-up and the last minute (shorter for short runs): what memory is compared on."""
    span = min(60.0, duration / 10)
    first = (span, 2 * span)
    return first, (duration - span, duration)


# Memory is first compared once the first outage is over by this much: the first outage runs code no request
# ran before (reconnecting the pool, the 503 path), and what that allocates once is warm-up, not a leak.
SETTLE_AFTER_FIRST_OUTAGE_S = 30.0


def memory_windows(duration: float, outages: Sequence[Outage] = ()) -> tuple[tuple[float, float], tuple[float, float]]:
    """The windows memory is compared on: as `windows`, but the first starts after the first outage has settled,
    where there was one and a minute of run is left between it and the last window."""
    (a0, a1), last = windows(duration)
    first_over = next((o.recovered_at for o in outages if o.recovered_at is not None), None)
    if first_over is not None:
        start = max(a0, first_over + SETTLE_AFTER_FIRST_OUTAGE_S)
        if start + (a1 - a0) <= last[0]:
            return (start, start + (a1 - a0)), last
    return (a0, a1), last


def rss_trend(rss: Sequence[RssSample], duration: float, outages: Sequence[Outage] = ()) -> dict[str, float | None]:
    """Mean RSS of the two windows, and the slope between them and of a least-squares fit after warm-up; also
    the plain first minute after warm-up, before any outage, for comparison."""
    (a0, a1), (b0, b1) = memory_windows(duration, outages)
    plain = windows(duration)[0]
    before = [s.total for s in rss if plain[0] <= s.at < plain[1]]
    first = [s.total for s in rss if a0 <= s.at < a1]
    last = [s.total for s in rss if b0 <= s.at <= b1]
    trend: dict[str, float | None] = {"first_mb": None, "last_mb": None, "slope_mb_per_min": None}
    if first and last:
        first_mb, last_mb = sum(first) / len(first) / MB, sum(last) / len(last) / MB
        minutes = ((b0 + b1) / 2 - (a0 + a1) / 2) / 60
        trend.update(first_mb=first_mb, last_mb=last_mb, slope_mb_per_min=(last_mb - first_mb) / minutes)
    after = [(s.at / 60, s.total / MB) for s in rss if s.at >= a0]
    trend["fit_mb_per_min"] = _fit_slope(after)
    trend["peak_mb"] = max((s.total for s in rss), default=0) / MB or None
    trend["first_window_s"] = a0
    trend["before_outages_mb"] = sum(before) / len(before) / MB if before else None
    return trend


def _fit_slope(points: Sequence[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def good_p99_ms(outcomes: Sequence[Outcome], judged: Judged, window: tuple[float, float]) -> float | None:
    times = [
        o.end - o.start
        for o, during in zip(outcomes, judged.in_outage, strict=True)
        if o.kind == "good" and not during and window[0] <= o.start < window[1]
    ]
    return _ms(times, 99)


def _shown(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def good_latency_by_op(
    outcomes: Sequence[Outcome], judged: Judged, window: tuple[float, float]
) -> dict[str, tuple[int, float | None, float | None]]:
    """Per kind of good request in the window: how many, p50 and p99 in ms (outside outages)."""
    times: dict[str, list[float]] = {}
    for o, during in zip(outcomes, judged.in_outage, strict=True):
        if o.kind == "good" and not during and window[0] <= o.start < window[1]:
            times.setdefault(o.op, []).append(o.end - o.start)
    return {op: (len(t), _ms(t, 50), _ms(t, 99)) for op, t in sorted(times.items())}


def format_latency_by_op(
    first: dict[str, tuple[int, float | None, float | None]], last: dict[str, tuple[int, float | None, float | None]]
) -> str:
    """Which good request drifts: the first and the last judged minute side by side."""
    lines = [
        "| good request | first minute: n, p50 / p99 ms | last minute: n, p50 / p99 ms |",
        "| --- | ---: | ---: |",
    ]
    for op in sorted(set(first) | set(last)):
        cells = []
        for side in (first, last):
            n, p50, p99 = side.get(op, (0, None, None))
            cells.append(f"{n:,}, {_shown(p50)} / {_shown(p99)}")
        lines.append(f"| {op} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def format_intervals(rows: Sequence[Interval]) -> str:
    head = (
        "| t (s) | good | bad | ctrl | outage | 2xx | 4xx | 5xx | of which outage 503 | errors | wrong"
        " | good p50 ms | good p99 ms | lag p99 ms | RSS MB | server cores | machine cores |"
    )
    lines = [head, "|" + " ---: |" * 17]

    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:,.1f}"

    def cores(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}"

    for r in rows:
        lines.append(
            f"| {r.start:.0f}–{r.end:.0f} | {r.good:,} | {r.bad:,} | {r.control:,} | {r.during_outage:,} | "
            f"{r.ok_2xx:,} | {r.client_4xx:,} | {r.server_5xx:,} | {r.outage_503:,} | {r.errors:,} | {r.wrong:,} | "
            f"{ms(r.p50_ms)} | {ms(r.p99_ms)} | {ms(r.lag_p99_ms)} | {ms(r.rss_mb)} | "
            f"{cores(r.server_cores)} | {cores(r.machine_cores)} |"
        )
    return "\n".join(lines)


def format_verdicts(verdicts: Sequence[Verdict]) -> str:
    lines = ["| check | measured | verdict |", "| --- | --- | --- |"]
    lines.extend(f"| {v.check} | {v.measured} | {v.mark} |" for v in verdicts)
    return "\n".join(lines)


def interval_json(rows: Sequence[Interval]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]


def plot(
    path: Path,
    outcomes: Sequence[Outcome],
    judged: Judged,
    outages: Sequence[Outage],
    rss: Sequence[RssSample],
    duration: float,
    title: str,
) -> str | None:
    """p50/p99 of the good requests per 10 s and the server's RSS over time, outages shaded; why not, if not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install '.[bench]')"
    bucket = max(1.0, min(10.0, duration / 30))
    buckets: dict[int, list[float]] = {}
    for o, during in zip(outcomes, judged.in_outage, strict=True):
        if o.kind == "good" and not during:
            buckets.setdefault(int(o.start // bucket), []).append(o.end - o.start)
    xs = sorted(buckets)
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 6), dpi=120)
    top.plot([(x + 0.5) * bucket for x in xs], [_ms(buckets[x], 99) for x in xs], label="p99", color="tab:red")
    top.plot([(x + 0.5) * bucket for x in xs], [_ms(buckets[x], 50) for x in xs], label="p50", color="tab:blue")
    top.set_ylabel(f"good requests, ms per {bucket:g} s")
    top.set_yscale("log")
    top.legend(fontsize=8)
    bottom.plot([s.at for s in rss], [s.total / MB for s in rss], color="tab:green")
    bottom.set_ylabel("RSS of the server's processes, MB")
    bottom.set_xlabel("seconds since the load began")
    bottom.set_ylim(bottom=0)
    for axes in (top, bottom):
        axes.grid(True, alpha=0.3)
        for outage in outages:
            end = outage.recovered_at if outage.recovered_at is not None else duration
            axes.axvspan(outage.cut_at, end, color="tab:gray", alpha=0.25, linewidth=0)
    top.set_title(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return None
