"""The result archive of one run: the zip the API hands out for a finished run, in FRED 11's output layout.

Nothing is simulated. The counts are a synthetic epidemic wave, drawn from a random generator seeded with the
job and run ids, for every condition and state the model file names, one row per day of the run's configured
period. The same (job, run, configuration) always gives the same bytes. The layout and formats are the ones
epx 1.2.2's readers parse (run/fs.py, run/result/fred_run_results.py, job/status/fred_job_status.py);
docs/results-archive.md describes them.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

from .errors import Invalid

# The client extracts a run's zip into results/<run_id>/ and reads results/<run_id>/work/outputs/.
OUTPUTS = "work/outputs/"
# DOS's earliest time on every member, so the bytes do not depend on when the archive was built.
MEMBER_TIME = (1980, 1, 1, 0, 0, 0)
# The model the archive describes when the model file names no condition.
FALLBACK_STATES = ("S", "E", "I", "R")
FALLBACK_CONDITION = "INF"
# A run whose configuration gives no period gets this many days from this date.
DEFAULT_START = date(2020, 1, 1)
DEFAULT_DAYS = 90
# Ten years of daily rows is already a very long FRED run; longer would let one request build a huge archive.
MAX_DAYS = 3653
# The log lines' time when the caller gives none (a fixed one keeps the archive deterministic).
DEFAULT_RAN_AT = datetime(2020, 1, 1, tzinfo=UTC)
# More states than this (each is three files) is not a model the mock needs to answer.
MAX_STATES = 500


@dataclass(frozen=True)
class Condition:
    """A condition of the model and its states; `start_state` is where every agent begins."""

    name: str
    states: tuple[str, ...]
    start_state: str
    # The state the meta agent starts in: FRED counts no ordinary agent there.
    meta_state: str | None = None

    @property
    def chain(self) -> list[str]:
        """The states an infected agent passes through in file order; the last one keeps them (recovered)."""
        return [s for s in self.states if s not in (self.start_state, self.meta_state)]


@dataclass(frozen=True)
class Period:
    """The simulated days, both ends included (FRED's --start-date and --end-date)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many rows each daily file has."""
        return (self.end - self.start).days + 1


_COMMENT = re.compile(r"#[^\n]*")
_TOKENS = re.compile(r"\b(condition|state)\s+([A-Za-z_][\w.]*)\s*(?=\{)|\{|\}")
_START_STATE = re.compile(r"(?<![\w.])start_state\s*=\s*(\w+)")
_META_STATE = re.compile(r"(?<![\w.])meta_start_state\s*=\s*(\w+)")
_STATES_LIST = re.compile(r"(?<![\w.])states\s*=\s*([\w \t]+)")


def conditions_in_model(model_text: str) -> list[Condition]:
    """Each `condition NAME { ... }` of FRED model text with its `state NAME { ... }` blocks, in file order.

    A top-level `state COND.NAME { ... }` adds NAME to COND, as FRED merges it into that condition. A condition
    with no state blocks takes its `states = A B C` list. No condition at all gives INF with S, E, I and R.
    """
    text = _COMMENT.sub("", model_text)
    states: dict[str, list[str]] = {}
    bodies: dict[str, list[str]] = {}
    # The open blocks, innermost last: (kind, name, where its body starts).
    stack: list[tuple[str, str, int]] = []
    pending: tuple[str, str] | None = None
    for token in _TOKENS.finditer(text):
        if token.group(1):
            pending = (token.group(1), token.group(2))
        elif token.group(0) == "{":
            kind, name = pending or ("other", "")
            pending = None
            stack.append((kind, name, token.end()))
            if kind == "condition" and not stack[:-1]:
                states.setdefault(name, [])
            elif kind == "state":
                _add_state(states, stack[:-1], name)
        elif stack:
            kind, name, body_start = stack.pop()
            if kind == "condition" and not stack:
                bodies.setdefault(name, []).append(text[body_start : token.start()])
    found = [_condition(name, names, "\n".join(bodies.get(name, []))) for name, names in states.items()]
    found = [condition for condition in found if condition.states]
    if sum(len(condition.states) for condition in found) > MAX_STATES:
        raise Invalid(f"the model names more than {MAX_STATES} states; the mock generates results for fewer")
    return found or [Condition(FALLBACK_CONDITION, FALLBACK_STATES, FALLBACK_STATES[0])]


def _add_state(states: dict[str, list[str]], enclosing: list[tuple[str, str, int]], name: str) -> None:
    if len(enclosing) == 1 and enclosing[0][0] == "condition":
        condition, state = enclosing[0][1], name
    elif not enclosing and "." in name:
        condition, state = name.split(".", 1)
    else:
        return
    known = states.setdefault(condition, [])
    if state and "." not in state and state not in known:
        known.append(state)


def _condition(name: str, states: list[str], body: str) -> Condition:
    if not states and (listed := _STATES_LIST.search(body)):
        states = listed.group(1).split()
    start = _START_STATE.search(body)
    meta = _META_STATE.search(body)
    start_state = start.group(1) if start and start.group(1) in states else (states[0] if states else "")
    meta_state = meta.group(1) if meta and meta.group(1) in states and meta.group(1) != start_state else None
    return Condition(name, tuple(states), start_state, meta_state)


_SIM_DATE = re.compile(r"(?<![\w.])(start_date|end_date)\s*=\s*([0-9A-Za-z-]+)")


def run_period(run_config: Mapping[str, Any] | None, model_text: str = "") -> Period:
    """The run's period, from what the client uploaded or submitted, else the model's `simulation` block.

    `run_config` is run.json (dates under `params`), an entry of job.json's `config` (dates at the top), or
    the run request of POST /runs (`--start-date`/`--end-date` in `fredArgs`). A missing end is the start
    plus DEFAULT_DAYS - 1 days; no start at all is DEFAULT_START. Refuses an end before the start or a period
    longer than MAX_DAYS.
    """
    given = _dates_in_config(run_config or {})
    for key, value in _SIM_DATE.findall(_COMMENT.sub("", model_text)):
        given.setdefault(key, value)
    start = _parse_date(given.get("start_date")) or DEFAULT_START
    end = _parse_date(given.get("end_date")) or start + timedelta(days=DEFAULT_DAYS - 1)
    period = Period(start, end)
    if period.days < 1:
        raise Invalid(f"the run ends ({end}) before it starts ({start})")
    if period.days > MAX_DAYS:
        raise Invalid(f"the run covers {period.days} days; the mock generates results for at most {MAX_DAYS}")
    return period


def _dates_in_config(config: Mapping[str, Any]) -> dict[str, str]:
    params = config.get("params")
    source: Mapping[str, Any] = params if isinstance(params, Mapping) else config
    dates = {key: source[key] for key in ("start_date", "end_date") if isinstance(source.get(key), str)}
    args = config.get("fredArgs")
    for arg in args if isinstance(args, list) else []:
        if isinstance(arg, Mapping) and arg.get("flag") in ("--start-date", "--end-date"):
            key = "start_date" if arg["flag"] == "--start-date" else "end_date"
            if isinstance(arg.get("value"), str):
                dates.setdefault(key, arg["value"])
    return dates


def _parse_date(text: str | None) -> date | None:
    if not text:
        return None
    # ISO as the client sends it (a time after the date is ignored); 2020-Jan-01 as FRED model files write it.
    for layout, length in (("%Y-%m-%d", 10), ("%Y-%b-%d", 11)):
        try:
            return datetime.strptime(text[:length], layout).date()
        except ValueError:
            continue
    raise Invalid(f"{text!r} is not a date (YYYY-MM-DD)")


def epi_week(day: date) -> str:
    """The MMWR (CDC) epidemiological week of a date as FRED writes it, `YYYY.WW`: weeks start on Sunday and
    week 1 is the first one with at least four days in January."""
    year = day.year + 1
    while day < _epi_year_start(year):
        year -= 1
    return f"{year}.{(day - _epi_year_start(year)).days // 7 + 1:02d}"


def _epi_year_start(year: int) -> date:
    january_4 = date(year, 1, 4)
    return january_4 - timedelta(days=(january_4.weekday() + 1) % 7)


@dataclass
class StateSeries:
    """One state's three daily series: agents in it at the end of the day, entries that day, entries so far."""

    count: list[int]
    new: list[int]
    cumulative: list[int]


def realisation_seed(job_id: int, run_id: int) -> int:
    """The run's random seed: a hash of the ids (Python's hash() is salted per process, so never that)."""
    digest = hashlib.sha256(f"pactmock-results:{job_id}:{run_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def population_size(locations: Sequence[str]) -> int:
    """A constant population for the synthetic population's locations: the same places, the same size."""
    digest = hashlib.sha256("\n".join(sorted(locations)).encode()).digest()
    return 20_000 + int.from_bytes(digest[:4], "big") % 180_000


def epidemic(condition: Condition, population: int, days: int, rng: random.Random) -> dict[str, StateSeries]:
    """One realisation of an SIR-shaped wave through the condition's states.

    Agents start in the start state (the susceptible), a few in the next one. The other states form a chain in
    file order: infection moves agents out of the susceptible state, each intermediate state passes agents on
    after a random mean stay, and the last state keeps them (the recovered). Every day each condition's counts
    sum to the population. Entries are counted on the day they happen; on day 0 every agent enters its state.
    """
    chain = condition.chain
    middle, last = chain[:-1], (chain[-1] if chain else None)
    # Stays scale with the period so the wave fits it, within what a real infection's stages last.
    stays = [min(max(days * rng.uniform(0.03, 0.07), 1.0), 8.0) for _ in middle]
    leave = [1.0 - math.exp(-1.0 / stay) for stay in stays]
    beta = rng.uniform(1.6, 2.8) / (sum(stays) or 4.0)
    counts = dict.fromkeys(condition.states, 0)
    seeded = 0 if last is None else max(1, round(population * rng.uniform(0.0005, 0.002)))
    counts[condition.start_state] = population - seeded
    if last is not None:
        counts[chain[0]] = seeded
    series = {s: StateSeries([n], [n], [n]) for s, n in counts.items()}
    for _ in range(1, days):
        entered = dict.fromkeys(condition.states, 0)
        infectious = sum(counts[s] for s in middle) if middle else counts[last] if last else 0
        pressure = 1.0 - math.exp(-beta * infectious / population)
        infected = min(counts[condition.start_state], _round(counts[condition.start_state] * pressure, rng))
        moves = [(condition.start_state, chain[0], infected)] if chain else []
        moves += [(s, chain[i + 1], _round(counts[s] * leave[i], rng)) for i, s in enumerate(middle)]
        for source, target, moved in moves:
            counts[source] -= moved
            counts[target] += moved
            entered[target] += moved
        for s, one in series.items():
            one.count.append(counts[s])
            one.new.append(entered[s])
            one.cumulative.append(one.cumulative[-1] + entered[s])
    return series


def _round(expected: float, rng: random.Random) -> int:
    """Stochastic rounding: a small count still moves on some days, and each realisation differs."""
    whole = math.floor(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


@dataclass(frozen=True)
class RunOutputs:
    """What a finished run's archive is built from: the ids, its period, the model text and the population."""

    job_id: int
    run_id: int
    period: Period
    model_text: str = ""
    locations: tuple[str, ...] = ()
    ran_at: datetime = DEFAULT_RAN_AT


def write_done_archive(outputs: RunOutputs, sink: IO[bytes]) -> None:
    """Write a DONE run's archive to `sink`, one member at a time."""
    days = outputs.period.days
    rng = random.Random(realisation_seed(outputs.job_id, outputs.run_id))
    population = population_size(outputs.locations)
    conditions = conditions_in_model(outputs.model_text)
    dates = [outputs.period.start + timedelta(days=n) for n in range(days)]
    with _archive(sink) as archive:
        _member(archive, "conditions.json", json.dumps(_conditions_json(conditions), indent=2) + "\n")
        _member(archive, "DAILY/Date.txt", _daily(d.isoformat() for d in dates))
        _member(archive, "DAILY/EpiWeek.txt", _daily(epi_week(d) for d in dates))
        _member(archive, "DAILY/Popsize.txt", _daily([population] * days))
        summaries = []
        for condition in conditions:
            series = epidemic(condition, population, days, rng)
            for state, one in series.items():
                _member(archive, f"DAILY/{condition.name}.{state}.txt", _daily(one.count))
                _member(archive, f"DAILY/{condition.name}.new{state}.txt", _daily(one.new))
                _member(archive, f"DAILY/{condition.name}.tot{state}.txt", _daily(one.cumulative))
            summaries.append((condition, series))
        first, first_series = summaries[0]
        # Agents never return to the start state, so whoever has left it has been infected.
        attack_rate = (_fraction(population - n, population) for n in first_series[first.start_state].count)
        _member(archive, "VARIABLES/numeric.attack_rate.csv", _daily(attack_rate))
        infected = first.chain[:-1] or first.chain
        prevalence = (sum(first_series[s].count[d] for s in infected) for d in range(days))
        _member(archive, "VARIABLES/numeric.prevalence.csv", _daily(_fraction(n, population) for n in prevalence))
        _member(archive, "USER_OUTPUT/print_output.txt", "".join(_print_lines(summaries, dates)))
        _member(archive, "logs.txt", _logs(outputs, conditions, population))


def done_archive(outputs: RunOutputs) -> bytes:
    """A DONE run's archive as bytes (write_done_archive into memory)."""
    buffer = io.BytesIO()
    write_done_archive(outputs, buffer)
    return buffer.getvalue()


def error_archive(job_id: int, run_id: int, errors: Sequence[str], ran_at: datetime = DEFAULT_RAN_AT) -> bytes:
    """What the API gives for a run that ended in ERROR: `logs.txt` with its ERROR lines and no outputs."""
    lines = [(ran_at, "INFO", f"FRED run {run_id} of job {job_id} started")]
    lines += [(ran_at + timedelta(seconds=1), "ERROR", message) for message in errors or ["FRED exited with an error"]]
    lines.append((ran_at + timedelta(seconds=1), "INFO", "FRED exited with return code 1"))
    buffer = io.BytesIO()
    with _archive(buffer) as archive:
        _member(archive, "logs.txt", "".join(_log_line(*line) for line in lines))
    return buffer.getvalue()


def _archive(sink: IO[bytes]) -> zipfile.ZipFile:
    # zipfile writes to an unseekable sink too (a pipe, a response stream), with data descriptors.
    return zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)


def _member(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(OUTPUTS + name, date_time=MEMBER_TIME)
    # Fixed on every platform: the host system and permissions are part of the bytes.
    info.create_system = 3
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text.encode(), compresslevel=6)


def _daily(values: Iterable[object]) -> str:
    """FRED's daily file: `<sim_day> <value>` per line, space-separated, no header."""
    return "".join(f"{day} {value}\n" for day, value in enumerate(values))


def _fraction(part: int, whole: int) -> str:
    return f"{part / whole:.6f}"


def _conditions_json(conditions: Sequence[Condition]) -> dict[str, Any]:
    """The marker whose presence makes the client read the FRED 11 layout; it lists what the archive holds."""
    return {
        "conditions": [{"name": c.name, "start_state": c.start_state, "states": list(c.states)} for c in conditions]
    }


def _print_lines(summaries: Sequence[tuple[Condition, dict[str, StateSeries]]], dates: Sequence[date]) -> Iterable[str]:
    """What a model's print() actions might have said: each wave's peak, and where everyone ended."""
    for condition, series in summaries:
        middle = condition.chain[:-1]
        if middle:
            counts = series[middle[-1]].count
            peak = max(range(len(counts)), key=counts.__getitem__)
            yield f"{condition.name}: {middle[-1]} peaked at {counts[peak]} on day {peak} ({dates[peak]})\n"
        final = ", ".join(f"{state}={one.count[-1]}" for state, one in series.items())
        yield f"{condition.name}: on {dates[-1]}: {final}\n"


def _logs(outputs: RunOutputs, conditions: Sequence[Condition], population: int) -> str:
    period = outputs.period
    lines = [
        (outputs.ran_at, "INFO", f"FRED run {outputs.run_id} of job {outputs.job_id} started"),
        (outputs.ran_at, "INFO", f"simulating {period.days} days from {period.start} to {period.end}"),
        (outputs.ran_at, "INFO", f"population: {population} agents"),
        (outputs.ran_at, "INFO", "conditions: " + ", ".join(c.name for c in conditions)),
        (outputs.ran_at + timedelta(seconds=period.days // 10 + 1), "INFO", "FRED exited with return code 0"),
    ]
    return "".join(_log_line(*line) for line in lines)


def _log_line(at: datetime, level: str, message: str) -> str:
    """`[YYYY-MM-DDTHH:MM:SS.mmmZ] LEVEL: message`, the line job.status.logs parses; one line per message."""
    # A naive time is taken as UTC, as the store keeps them.
    at = at if at.tzinfo is None else at.astimezone(UTC)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return f"[{stamp}] {level}: {' '.join(message.split())}\n"
