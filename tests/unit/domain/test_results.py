"""Result archives read by the real client: extracted as epx 1.2.2 extracts a download, parsed by its readers.

`job.results` unzips each run's archive into results/<run_id>/ and reads results/<run_id>/work/outputs/
through FileFinderFactory and FREDRunResultsFactory, joined by FREDJobResults; `job.status.logs` is
FREDJobStatus.logs over the same folders. These tests use those classes, so what they assert is what a user
of the client sees.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from epx.core.types.common import RunParameters
from epx.job.fred_job import FREDJob
from epx.job.result.fred_job_results import FREDJobResults
from epx.job.status.fred_job_status import FREDJobStatus
from epx.run.fred_run import FREDRun
from epx.run.fs import FileFinderFactory
from epx.run.result.fred_run_results import FREDRunResultsFactory

from app.domain.errors import Invalid
from app.domain.results import Period, RunOutputs, done_archive, error_archive, run_period

# A model in FRED 11's language: conditions with nested states, a meta agent's start state, a state added to
# a condition from outside it, a condition declared by a states list, and comments naming no real condition.
MODEL = """
# condition COMMENTED { state Nope {} }
simulation {
    locations = Loving_County_TX
    start_date = 2021-Mar-01
    end_date = 2021-Jun-30
}

condition FLU {
    transmission_mode = proximity
    start_state = Susceptible
    meta_start_state = Seed
    state Seed {
        import_count(5)
        wait()
        next()
    }
    state Susceptible {
        FLU.sus = 1
        wait()
        next()
    }
    state Exposed {
        wait(24 * 2)
        next(Infectious)
    }
    state Infectious {
        if (bernoulli(0.5) == 1) then set_state(HOME, Yes)
        wait(24 * 4)
        next(Recovered)
    }
    state Recovered {
        wait()
        next()
    }
}

condition HOME {
    start_state = No
    state No { wait() next() }
}

state HOME.Yes {
    wait(24 * 3)
    next(No)
}

condition VAX {
    states = Unvaccinated Vaccinated
}
"""
EXPECTED = {
    "FLU": ["Seed", "Susceptible", "Exposed", "Infectious", "Recovered"],
    "HOME": ["No", "Yes"],
    "VAX": ["Unvaccinated", "Vaccinated"],
}
PERIOD = Period(date(2024, 1, 1), date(2024, 4, 29))  # 120 days, a leap day inside
JOB = 7


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The client's storage root: results land in job_data/<job>/results/<run>/ as `job.results` puts them."""
    monkeypatch.setenv("EPX_STORAGE_DIR", str(tmp_path))
    return tmp_path


def download(job_id: int, run_id: int, archive: bytes) -> Path:
    """What job.results does with a downloaded archive: unzip it into results/<run_id>/."""
    folder = FREDJob._get_results_dir(job_id) / str(run_id)
    with zipfile.ZipFile(io.BytesIO(archive)) as zip_ref:
        zip_ref.extractall(str(folder))
    return folder / "work/outputs"


def job_results(job_id: int, archives: dict[int, bytes]) -> FREDJobResults:
    """The client's FREDJobResults over the runs' downloaded archives, as job.results builds it."""
    readers = []
    for run_id, archive in archives.items():
        outputs = download(job_id, run_id, archive)
        readers.append((run_id, FREDRunResultsFactory(FileFinderFactory(outputs).build()).build()))
    return FREDJobResults(readers)


def archive_of(run_id: int, job_id: int = JOB, model: str = MODEL, period: Period = PERIOD) -> bytes:
    return done_archive(RunOutputs(job_id, run_id, period, model, ("Loving_County_TX",)))


def test_dates_have_one_row_per_day_of_the_period_for_each_run(storage: Path) -> None:
    results = job_results(JOB, {100: archive_of(100), 101: archive_of(101)})
    dates = results.dates()
    for run_id in (100, 101):
        one = dates[dates.run_id == run_id]
        assert one.sim_day.tolist() == list(range(120))
        assert one.sim_date.tolist() == list(pd.date_range("2024-01-01", "2024-04-29", freq="D"))


def test_population_is_constant_and_every_condition_partitions_it(storage: Path) -> None:
    results = job_results(JOB, {100: archive_of(100)})
    population = results.pop_size()
    assert len(population) == 120
    assert population.pop_size.nunique() == 1 and population.pop_size.iloc[0] > 0
    for condition, states in EXPECTED.items():
        total = sum(results.state(condition, state, "count")["count"].to_numpy() for state in states)
        assert (total == population.pop_size.to_numpy()).all(), condition


def test_epi_weeks_are_cdc_weeks_across_year_ends(storage: Path) -> None:
    # MMWR weeks: 2020 and 2014 have a week 53; 2023-12-31 (a Sunday) starts 2024's week 1.
    days = {
        date(2021, 1, 2): "2020.53",
        date(2021, 1, 3): "2021.01",
        date(2015, 1, 3): "2014.53",
        date(2023, 12, 30): "2023.52",
        date(2023, 12, 31): "2024.01",
        date(2024, 1, 6): "2024.01",
        date(2024, 1, 7): "2024.02",
    }
    for run_id, (day, week) in enumerate(days.items(), start=200):
        results = job_results(JOB, {run_id: archive_of(run_id, period=Period(day, day))})
        assert results.epi_weeks().epi_week.tolist() == [week], day


def test_every_state_of_the_model_has_counts_new_and_cumulative(storage: Path) -> None:
    results = job_results(JOB, {100: archive_of(100)})
    for condition, states in EXPECTED.items():
        for state in states:
            count = results.state(condition, state, "count")
            new = results.state(condition, state, "new")
            cumulative = results.state(condition, state, "cumulative")
            for frame in (count, new, cumulative):
                assert frame.sim_day.tolist() == list(range(120)), (condition, state)
            assert (new["new"] >= 0).all() and (count["count"] >= 0).all()
            assert cumulative.cumulative.tolist() == new["new"].cumsum().tolist(), (condition, state)
    # Nobody is counted in the meta agent's state; a comment's condition is not in the model.
    assert (results.state("FLU", "Seed", "count")["count"] == 0).all()
    with pytest.raises(FileNotFoundError):
        results.state("COMMENTED", "Nope", "count")


def test_the_wave_has_an_sir_shape(storage: Path) -> None:
    results = job_results(JOB, {100: archive_of(100)})
    susceptible = results.state("FLU", "Susceptible", "count")["count"]
    infectious = results.state("FLU", "Infectious", "count")["count"]
    recovered = results.state("FLU", "Recovered", "count")["count"]
    population = results.pop_size().pop_size.iloc[0]
    assert susceptible.is_monotonic_decreasing and recovered.is_monotonic_increasing
    assert susceptible.iloc[-1] < 0.8 * population and recovered.iloc[-1] > 0.2 * population
    peak = int(infectious.idxmax())
    assert (
        0 < peak < 119
        and infectious.iloc[-1] < infectious.iloc[peak] / 2
        and infectious.iloc[0] < infectious.iloc[peak]
    )
    # Entries into Recovered are what Recovered gains: the daily counts and the new counts agree.
    new_recovered = results.state("FLU", "Recovered", "new")["new"]
    assert recovered.diff().iloc[1:].tolist() == new_recovered.iloc[1:].tolist()


def test_print_output_and_numeric_variables(storage: Path) -> None:
    results = job_results(JOB, {100: archive_of(100)})
    printed = results.print_output()
    assert set(printed.run_id) == {100}
    assert any(line.startswith("FLU: Infectious peaked at") for line in printed.print_output)
    attack = results.numeric_var("attack_rate")
    susceptible = results.state("FLU", "Susceptible", "count")["count"]
    population = results.pop_size().pop_size.iloc[0]
    assert attack.sim_day.tolist() == list(range(120))
    assert attack.value.is_monotonic_increasing and attack.value.between(0, 1).all()
    assert (attack.value - (population - susceptible) / population).abs().max() < 1e-6
    prevalence = results.numeric_var("prevalence")
    assert len(prevalence) == 120 and prevalence.value.max() > 0


def test_two_runs_differ_and_the_same_inputs_give_the_same_bytes(storage: Path) -> None:
    assert archive_of(100) == archive_of(100)
    assert archive_of(100) != archive_of(101)
    assert archive_of(100, job_id=8) != archive_of(100)
    results = job_results(JOB, {100: archive_of(100), 101: archive_of(101)})
    infectious = results.state("FLU", "Infectious", "count")
    first, second = (infectious[infectious.run_id == r]["count"].tolist() for r in (100, 101))
    assert first != second


def test_a_model_without_conditions_gets_inf_with_s_e_i_r(storage: Path) -> None:
    results = job_results(JOB, {100: archive_of(100, model="simulation { }\n")})
    for state in ("S", "E", "I", "R"):
        assert len(results.state("INF", state, "cumulative")) == 120


def test_an_error_archive_shows_its_errors_in_job_status_logs(storage: Path) -> None:
    ran_at = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    archive = error_archive(JOB, 102, ["line 12: unknown state Infectious", "two\nlines"], ran_at)
    outputs = download(JOB, 102, archive)
    run = FREDRun._from_file(RunParameters(start_date="2024-01-01", end_date="2024-01-31"), JOB, ["m.fred"], run_id=102)
    logs = FREDJobStatus(JOB, [(102, run)]).logs
    errors = logs[logs.level == "ERROR"]
    assert errors.message.tolist() == ["line 12: unknown state Infectious", "two lines"]
    assert set(logs.run_id) == {102} and logs.time.iloc[0] == pd.Timestamp("2026-03-04 05:06:07.891")
    # No outputs: the readers find nothing to read.
    with pytest.raises(FileNotFoundError):
        FREDRunResultsFactory(FileFinderFactory(outputs).build()).build().dates()


def test_a_done_archive_logs_parse_with_no_errors(storage: Path) -> None:
    download(JOB, 100, archive_of(100))
    run = FREDRun._from_file(RunParameters(), JOB, ["m.fred"], run_id=100)
    logs = FREDJobStatus(JOB, [(100, run)]).logs
    assert len(logs) > 0 and set(logs.level) == {"INFO"}


def test_the_period_comes_from_what_the_client_uploaded() -> None:
    run_json = {"job_id": 7, "params": {"start_date": "2024-01-01", "end_date": "2024-01-03", "seed": 1}}
    job_config = {"start_date": "2023-05-01", "end_date": "2023-05-31", "n_reps": 2}
    request = {
        "fredArgs": [{"flag": "--start-date", "value": "2022-02-01"}, {"flag": "--end-date", "value": "2022-02-28"}]
    }
    assert run_period(run_json) == Period(date(2024, 1, 1), date(2024, 1, 3))
    assert run_period(job_config).days == 31
    assert run_period(request).days == 28
    # No dates in the configuration: the model's simulation block, in FRED's own date format.
    assert run_period({"params": {"start_date": None, "end_date": None}}, MODEL) == Period(
        date(2021, 3, 1), date(2021, 6, 30)
    )
    with pytest.raises(Invalid):
        run_period({"start_date": "2024-02-01", "end_date": "2024-01-01"})
    with pytest.raises(Invalid):
        run_period({"start_date": "2000-01-01", "end_date": "2099-12-31"})
    with pytest.raises(Invalid):
        run_period({"start_date": "yesterday"})


def test_a_year_with_three_conditions_builds_well_under_a_second() -> None:
    year = Period(date(2024, 1, 1), date(2024, 12, 31))
    started = time.perf_counter()
    archive = done_archive(RunOutputs(JOB, 100, year, MODEL))
    assert time.perf_counter() - started < 1.0
    with zipfile.ZipFile(io.BytesIO(archive)) as zip_ref:
        names = zip_ref.namelist()
        assert all(name.startswith("work/outputs/") for name in names)
        assert len(zip_ref.read("work/outputs/DAILY/FLU.Infectious.txt").splitlines()) == 366


def test_the_bytes_do_not_depend_on_the_process_or_the_clock() -> None:
    # Another interpreter, with another str-hash salt, builds the same archive; every member carries one time.
    script = (
        "import hashlib, sys; from datetime import date; from app.domain.results import *; "
        "period = Period(date(2024, 1, 1), date(2024, 4, 29)); "
        "sys.stdout.write(hashlib.sha256(done_archive(RunOutputs(7, 100, period, sys.stdin.read(), "
        "('Loving_County_TX',)))).hexdigest())"
    )
    root = Path(__file__).resolve().parents[3]
    for salt in ("1", "2"):
        built = subprocess.run(
            [sys.executable, "-c", script],
            input=MODEL,
            capture_output=True,
            text=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": salt},
            check=True,
        )
        assert built.stdout == hashlib.sha256(archive_of(100)).hexdigest()
    with zipfile.ZipFile(io.BytesIO(archive_of(100))) as zip_ref:
        assert {member.date_time for member in zip_ref.infolist()} == {(1980, 1, 1, 0, 0, 0)}
