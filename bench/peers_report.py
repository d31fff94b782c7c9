"""The figures of `bench.peers`: medians over rounds, the issue's targets, the table, the plot, the ceiling run.

A target is a ratio of two figures of the same round (the peers of a round ran minutes apart on the same
machine); its verdict is on the median of the rounds' ratios, and the table lists each round's ratio.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.peers_measure import Outcome

ROOT = Path(__file__).resolve().parents[1]
MB = 1024**2
GB = 1024**3


def dumps(document: Any, indent: int | None = None) -> str:
    return json.dumps(document, indent=indent, default=str)


def run_pg_ceiling(postgres_url: str, clients: int, duration_s: float) -> Outcome:
    """`bench.pg_ceiling` at ``clients`` connections: PostgreSQL's own rate of the mock's run submission."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "ceiling.json"
        command = [sys.executable, "-m", "bench.pg_ceiling", "--clients", str(clients)]
        command += ["--duration", str(max(1, round(duration_s))), "--postgres-url", postgres_url, "--json", str(out)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not out.exists():
            return Outcome("ceiling", "failed", (done.stderr or done.stdout).strip()[-300:])
        row = json.loads(out.read_text(encoding="utf-8"))["rows"][0]
    return Outcome("ceiling", rps=row["tps"], errors=row["failed"], requests=None)


# --- medians -----------------------------------------------------------------------------------------------------


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (scenario, load, peer): medians over the rounds that measured it, and why the others did not."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["scenario"], row["load"], row["peer"]), []).append(row)
    lines = []
    for (scenario, load, peer), found in groups.items():
        measured = [r for r in found if r["status"] == "ok" and r["rps"] is not None]
        reasons = sorted({f"{r['status']}: {r['reason']}" for r in found if r["status"] != "ok"})
        lines.append(
            {
                "scenario": scenario,
                "load": load,
                "peer": peer,
                "interactions": found[0]["interactions"],
                "rounds": len(measured),
                "rps": _median(r["rps"] for r in measured),
                "rps_rounds": [r["rps"] for r in found],
                "p50_ms": _median(r["p50_ms"] for r in measured),
                "p99_ms": _median(r["p99_ms"] for r in measured),
                "non_2xx": sum(r["non_2xx"] or 0 for r in measured),
                "errors": sum(r["errors"] or 0 for r in measured),
                "peak_rss_bytes": _median(r["peak_rss_bytes"] for r in found),
                "peak_pss_bytes": _median(r.get("peak_pss_bytes") for r in found),
                "first_answer_s": _median(r["first_answer_s"] for r in found),
                "not_measured": reasons,
            }
        )
    return lines


# --- targets -----------------------------------------------------------------------------------------------------


def _rounds(rows: Sequence[dict[str, Any]], scenario: str, load: str, peer: str) -> dict[int, dict[str, Any]]:
    return {r["round"]: r for r in rows if (r["scenario"], r["load"], r["peer"]) == (scenario, load, peer)}


def _figure(row: dict[str, Any] | None, key: str) -> float | None:
    if row is None or row["status"] != "ok":
        return None
    value = row.get(key)
    return float(value) if value is not None else None


def _verdict(target: str, values: list[float], passed: Any, unit: str = "x", why: str | None = None) -> dict[str, str]:
    if not values:
        return {"target": target, "measured": why or "not measured", "verdict": "n/a"}
    middle = statistics.median(values)
    each = ", ".join(_fmt(v, unit) for v in values)
    return {
        "target": target,
        "measured": f"{_fmt(middle, unit)} ({each})",
        "verdict": "PASS" if passed(middle) else "MISS",
    }


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "%":
        return f"{value:.0%}"
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def _why_not(rows: Sequence[dict[str, Any]], *keys: tuple[str, str, str]) -> str | None:
    for key in keys:
        for row in _rounds(rows, *key).values():
            if row["status"] != "ok":
                return f"{key[2]}: {row['status']} ({row['reason']})"
    return None


def _ratios(
    rows: Sequence[dict[str, Any]], top: tuple[str, str, str], bottom: tuple[str, str, str], key: str = "rps"
) -> list[float]:
    over, under = _rounds(rows, *top), _rounds(rows, *bottom)
    ratios = []
    for round_ in sorted(over):
        a, b = _figure(over[round_], key), _figure(under.get(round_), key)
        if a is not None and b:
            ratios.append(a / b)
    return ratios


def _rss_ratios(rows: Sequence[dict[str, Any]], scenario: str, key: str = "peak_rss_bytes") -> list[float]:
    """pactmock's peak RSS (or PSS, by ``key``) over WireMock's, per round. A WireMock that did not start or was
    killed still had a peak: a lower bound of what it needs, so the ratio to it is an upper bound, and a pass
    against it is a pass."""
    mock, wiremock = _rounds(rows, scenario, "single", "pactmock"), _rounds(rows, scenario, "single", "WireMock")
    ratios = []
    for round_, row in sorted(mock.items()):
        other = wiremock.get(round_)
        usable = other is not None and (other["status"] == "ok" or other["status"] in ("no start", "killed"))
        if row["status"] == "ok" and row.get(key) and usable and other and other.get(key):
            ratios.append(row[key] / other[key])
    return ratios


def judge(rows: Sequence[dict[str, Any]], sizes: Sequence[int]) -> list[dict[str, str]]:
    verdicts = []

    def ratio(target: str, top: tuple[str, str, str], bottom: tuple[str, str, str], least: float) -> None:
        values = _ratios(rows, top, bottom)
        verdicts.append(_verdict(target, values, lambda m: m >= least, why=_why_not(rows, top, bottom)))

    def p99(target: str, key: tuple[str, str, str], most: float) -> None:
        values = [v for r in _rounds(rows, *key).values() if (v := _figure(r, "p99_ms")) is not None]
        verdicts.append(_verdict(target, values, lambda m: m < most, "ms", _why_not(rows, key)))

    pm = "pactmock"
    big = max(sizes) if sizes else 0
    ratio("1. a. stub path >= 0.6x bare granian", ("a", "single", pm), ("a", "single", "bare granian"), 0.6)
    ratio(
        f"1. random paths over {big:,} >= 0.8x single path",
        (f"s-{big}", "random", pm),
        (f"s-{big}", "single", pm),
        0.8,
    )
    p99("1. a. stub path p99 < 10 ms", ("a", "single", pm), 10.0)
    p99(f"1. random paths over {big:,} p99 < 10 ms", (f"s-{big}", "random", pm), 10.0)
    for peer in ("pact stub", "WireMock"):
        ratio(f"2. >= 2x {peer} at 6, single path", ("s-6", "single", pm), ("s-6", "single", peer), 2.0)
    for load in ("single", "random"):
        ratio(f"2. >= 10x WireMock at 10,000, {load}", ("s-10000", load, pm), ("s-10000", load, "WireMock"), 10.0)
    for scenario in ["a", *(f"s-{s}" for s in sizes)]:
        why = _why_not(rows, (scenario, "single", pm), (scenario, "single", "WireMock"))
        # Summed RSS counts a page a forked worker shares with its parent once per process; PSS counts it once.
        for name, key in (("RSS", "peak_rss_bytes"), ("PSS", "peak_pss_bytes")):
            values = _rss_ratios(rows, scenario, key)
            target = f"2. peak {name} < 0.5x WireMock's, {scenario}"
            verdicts.append(_verdict(target, values, lambda m: m < 0.5, why=why))
    sqlite, postgres = ("post", "post", "pactmock SQLite"), ("post", "post", "pactmock PostgreSQL")
    ratio("3. POST /runs SQLite >= 1.0x Mockoon CRUD POST", sqlite, ("post", "post", "Mockoon"), 1.0)
    p99("3. POST /runs SQLite p99 < 50 ms", sqlite, 50.0)
    ratio("4. POST /runs PostgreSQL >= 2x Mockoon CRUD POST", postgres, ("post", "post", "Mockoon"), 2.0)
    p99("4. POST /runs PostgreSQL p99 < 50 ms", postgres, 50.0)
    values = _ratios(rows, postgres, ("pg-ceiling", "ceiling", "pgbench"))
    why = _why_not(rows, postgres, ("pg-ceiling", "ceiling", "pgbench"))
    verdicts.append(
        _verdict("4. POST /runs PostgreSQL >= 40% of bench.pg_ceiling", values, lambda m: m >= 0.4, "%", why)
    )
    return verdicts


# --- output ------------------------------------------------------------------------------------------------------


def _size(size: float | None) -> str:
    if size is None:
        return "–"
    return f"{size / GB:.2f} GB" if size >= GB else f"{size / MB:,.0f} MB"


def _rps(value: float | None) -> str:
    return "–" if value is None else (f"{value:,.1f}" if value < 100 else f"{value:,.0f}")


def format_table(summary: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| scenario | load | peer | req/s (median) | req/s per round | p50 ms | p99 ms | non-2xx | errors "
        "| peak RSS | peak PSS | first answer |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summary:
        if s["rps"] is None:
            rps = "; ".join(s["not_measured"]) or "–"
        else:
            rps = _rps(s["rps"]) + (f" ({'; '.join(s['not_measured'])})" if s["not_measured"] else "")
        rounds = ", ".join(_rps(v) for v in s["rps_rounds"])
        ms = [("–" if v is None else f"{v:,.2f}") for v in (s["p50_ms"], s["p99_ms"])]
        first = "–" if s["first_answer_s"] is None else f"{s['first_answer_s']:.2f} s"
        cells = [s["scenario"], s["load"], s["peer"], rps, rounds, *ms, f"{s['non_2xx']:,}", f"{s['errors']:,}"]
        cells += [_size(s["peak_rss_bytes"]), _size(s.get("peak_pss_bytes")), first]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def floors(rows: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Not targets: how much of the bare WSGI app's lead on a. is the RSGI interface pactmock's entrance runs on,
    and where pactmock stands against an RSGI app that does nothing but answer."""
    wsgi, rsgi, mock = (("a", "single", peer) for peer in ("bare granian", "bare granian RSGI", "pactmock"))
    found = []
    for name, top, bottom in (("bare RSGI / bare WSGI", rsgi, wsgi), ("pactmock / bare RSGI", mock, rsgi)):
        values = _ratios(rows, top, bottom)
        found.append(_verdict(f"a. {name}", values, lambda m: True, why=_why_not(rows, top, bottom)))
        found[-1].pop("verdict")
    return found


def format_verdicts(verdicts: Sequence[dict[str, str]]) -> str:
    lines = ["| target | measured: median (each round) | PASS/MISS |", "| --- | --- | --- |"]
    lines.extend(f"| {v['target']} | {v['measured']} | {v['verdict']} |" for v in verdicts)
    return "\n".join(lines)


COLOURS = {
    "pactmock": "tab:blue",
    "pact stub": "tab:orange",
    "WireMock": "tab:red",
    "Mockoon": "tab:green",
    "bare granian": "tab:gray",
    "bare granian RSGI": "tab:olive",
}


def plot(summary: Sequence[dict[str, Any]], path: Path) -> str | None:
    """Left: stub req/s against contract size per peer (single solid, random dashed). Right: POST /runs req/s."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed"
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5), dpi=120, gridspec_kw={"width_ratios": [3, 2]})
    for peer, colour in COLOURS.items():
        for load, style in (("single", "-"), ("random", "--")):
            points = sorted(
                (s["interactions"], s["rps"])
                for s in summary
                if s["peer"] == peer and s["load"] == load and s["scenario"].startswith("s-") and s["rps"]
            )
            if points:
                xs, ys = zip(*points, strict=True)
                left.plot(xs, ys, style, marker="o", color=colour, label=f"{peer}, {load} path")
        for s in summary:
            failed = [r for r in s["not_measured"] if r.startswith(("killed", "no start"))]
            if (
                s["peer"] == peer
                and s["load"] == "single"
                and s["scenario"].startswith("s-")
                and not s["rps"]
                and failed
            ):
                # Not a measurement: a mark on the x axis, so it cannot be read as a req/s figure.
                axes_x = left.get_xaxis_transform()
                left.plot([s["interactions"]], [0.03], marker="x", color=colour, transform=axes_x)
                what = failed[0].split(":")[0]
                left.annotate(
                    f"{peer}: {what}",
                    (s["interactions"], 0.03),
                    xycoords=axes_x,
                    xytext=(0, 6 + 9 * list(COLOURS).index(peer)),
                    textcoords="offset points",
                    ha="center",
                    fontsize=6,
                    color=colour,
                )
        a = next((s for s in summary if s["scenario"] == "a" and s["peer"] == peer and s["rps"]), None)
        if a is not None:
            left.axhline(a["rps"], color=colour, linestyle=":", linewidth=1, label=f"{peer}, epx stub path (a.)")
    sizes = sorted({s["interactions"] for s in summary if s["scenario"].startswith("s-")})
    left.set_xscale("log")
    if sizes:
        left.set_xticks(sizes, [f"{s:,}" for s in sizes])
    left.set_yscale("log")
    left.set_xlabel("interactions in the contract")
    left.set_ylabel("req/s (32 connections, median of rounds)")
    left.set_title("stub answers: throughput against contract size")
    left.grid(True, which="major", alpha=0.3)
    left.legend(fontsize=6)
    posts = [s for s in summary if s["scenario"] in ("post", "pg-ceiling") and s["rps"]]
    right.barh([s["peer"] for s in posts], [s["rps"] for s in posts], color="tab:purple")
    right.set_xlabel("req/s (POST /runs; pgbench: submissions/s)")
    right.set_title("stateful POST")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return None
