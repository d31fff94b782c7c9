"""Every error the domain or the store can raise has its problem type: none becomes a 500 by omission."""

from __future__ import annotations

import json

import pytest

from app.domain import errors
from app.web.errors import TABLE, error_response
from app.web.problems import CATALOGUE

RAISED = sorted(
    (
        kind
        for kind in vars(errors).values()
        if isinstance(kind, type) and issubclass(kind, Exception) and kind is not errors.DomainError
    ),
    key=lambda kind: kind.__name__,
)


@pytest.mark.parametrize("kind", RAISED, ids=lambda kind: kind.__name__)
def test_each_error_is_answered_with_its_own_problem_type(kind: type[Exception]) -> None:
    arguments: dict[type[Exception], tuple[object, ...]] = {
        errors.NotFound: ("job", 7),
        errors.QuotaExceeded: ("what happened", 1),
        errors.CapacityReached: ("tasks", 10),
        errors.InvalidTransition: ("the task", "running", "pending", ("completed",)),
    }
    error = kind(*arguments.get(kind, ("what happened",)))
    response = error_response(error, "GET", "/x", retry_after=2)
    body = json.loads(response.get_data())
    [slug] = [slug for listed, slug, _ in TABLE if isinstance(error, listed)][:1]
    assert slug != "internal" and response.status_code == CATALOGUE[slug].status != 500
    assert body["type"] == f"/_mock/problems/{slug}" and body["detail"] == body["description"]


@pytest.mark.parametrize("error", [errors.StoreUnavailable("down"), RuntimeError("a bug")], ids=["503", "500"])
def test_a_long_path_is_logged_clipped(error: Exception, caplog: pytest.LogCaptureFixture) -> None:
    # A 60 KB path must not make a 60 KB log line, whatever the answer.
    path = "/jobs/" + "0" * 60_000
    with caplog.at_level("WARNING"):
        error_response(error, "DELETE", path, retry_after=2)
    [record] = [r for r in caplog.records if "DELETE" in r.getMessage()]
    assert len(record.getMessage()) < 1_000 and "more characters" in record.getMessage()
