"""Session names (domain/sessions.py), the per-request runner (web/session_scope.py) and the store's reading of a
dropped session's error: the pieces the integration tests reach only through a real server."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import ProgrammingError

from app.domain.errors import Conflict
from app.domain.sessions import DEFAULT, InvalidSessionName, checked_name, current_session, enter_session, leave_session
from app.store.unit_of_work import _raise_translated
from app.web.session_scope import runner_for, session_of


@pytest.mark.parametrize("raw", ["a", "Worker-07", "x" * 52, "under_score", " padded "])
def test_good_names_are_case_folded(raw: str) -> None:
    assert checked_name(raw) == raw.strip().lower()


@pytest.mark.parametrize("raw", ["", "-lead", "_lead", "x" * 53, "has space", 'quo"te', "semi;colon", "dot.s", "naïve"])
def test_bad_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSessionName):
        checked_name(raw)


def test_the_header_names_the_session_and_its_absence_the_default() -> None:
    assert session_of({}) == DEFAULT
    assert session_of({"HTTP_X_PACTMOCK_SESSION": "Alpha"}) == "alpha"
    with pytest.raises(InvalidSessionName):
        session_of({"HTTP_X_PACTMOCK_SESSION": "al pha"})


def test_a_runner_works_in_its_session_on_any_thread_and_leaves_no_trace() -> None:
    run = runner_for("alpha")
    seen: list[str] = []
    assert run(current_session) == "alpha"
    worker = threading.Thread(target=lambda: seen.extend([run(current_session), current_session()]))
    worker.start()
    worker.join()
    # In the runner: the session; on the same thread outside it, and here: the default.
    assert seen == ["alpha", DEFAULT]
    assert current_session() == DEFAULT
    assert runner_for(DEFAULT)(current_session) == DEFAULT


class _Missing(Exception):
    pgcode = "42P01"


def test_a_missing_table_in_a_session_is_a_conflict_and_in_the_default_left_as_it_is() -> None:
    error = ProgrammingError("SELECT 1 FROM jobs", {}, _Missing())
    _raise_translated(error)  # the default session: not the store's to explain
    token = enter_session("gone")
    try:
        with pytest.raises(Conflict, match="'gone' was dropped"):
            _raise_translated(error)
    finally:
        leave_session(token)
