"""The journal's `answeredBy` field, written piece by piece, reads back as the record it stands for."""

from __future__ import annotations

import json

import pytest

from app.contract.model import Contract, Interaction, ProviderState, Request, Response
from app.web.dispatch import Bound, Stub
from app.web.journal_record import answered_json


def register_job() -> None:
    """A handler stand-in: only its module and name are recorded."""


ODD = 'quotes " and \\ backslash, tab\t, newline\n, é, 😀, \u2028, \x00'


def interaction(description: str, states: list[str], contract: Contract | None) -> Interaction:
    made = Interaction(description, Request("GET", "/x"), Response(200), [ProviderState(s) for s in states])
    made.contract = contract
    return made


@pytest.mark.parametrize(
    ("description", "states", "contract"),
    [
        ("a request to register an info job", [], Contract("epx", "Epistemix", "V4", "p.json")),
        (ODD, [ODD, "job 123 exists"], Contract(ODD, ODD, "V3", "p.json")),
        ("no contract", ["a"], None),
    ],
)
@pytest.mark.parametrize("bound", [False, True])
def test_answered_by_reads_back_as_the_interaction_that_answered(
    description: str, states: list[str], contract: Contract | None, bound: bool
) -> None:
    answered = interaction(description, states, contract)
    verdict = Bound(answered, register_job, {}) if bound else Stub(answered)
    field = answered_json(verdict)
    assert field.startswith(',"answeredBy":')
    expected = {
        "interaction": description,
        "provider": contract.provider if contract else None,
        "consumer": contract.consumer if contract else None,
        "providerStates": states,
    }
    if bound:
        expected["handler"] = f"{__name__}.register_job"
    assert json.loads(field.removeprefix(',"answeredBy":')) == expected
    assert answered_json(verdict) == field  # reused, the same text


def test_a_request_nothing_answered_has_no_answered_by() -> None:
    assert answered_json(None) == ""
