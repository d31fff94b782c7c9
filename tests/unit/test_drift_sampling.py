"""Which handler answers are held to the contract: all of an interaction's first ones, then a sample."""

from __future__ import annotations

from app.web.bound import DriftSampler


def test_every_answer_is_checked_until_the_first_ones_then_one_in_every() -> None:
    sampler = DriftSampler(first=5, every=3)
    submit = object()
    due = [sampler.due(submit) for _ in range(12)]
    assert due == [True] * 5 + [True, False, False, True, False, False, True]


def test_each_interaction_gets_its_own_first_answers_checked() -> None:
    sampler = DriftSampler(first=2, every=100)
    submit, listing = object(), object()
    assert [sampler.due(submit) for _ in range(3)] == [True, True, False]
    assert [sampler.due(listing) for _ in range(3)] == [True, True, False]
