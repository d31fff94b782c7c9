"""Filling a stateful answer with the keys of its example: what is kept, what is added, what is never touched."""

from __future__ import annotations

from typing import Any

from app.web.shaped import lacks_example_keys, shaped, with_example_keys

EXAMPLE = {"id": 1, "tags": ["x"], "links": {"self": "s"}, "runs": [{"id": 9, "url": "u"}]}


def test_an_answer_with_every_key_is_returned_as_it_is_and_the_example_never_generated() -> None:
    answer = {"id": 5, "tags": [], "links": {"self": "mine", "extra": 1}, "runs": [{"id": 7, "url": "v"}], "more": 2}

    def never() -> Any:
        raise AssertionError("the example was generated although no key was missing")

    assert shaped(answer, EXAMPLE, never) is answer


def test_missing_keys_come_from_the_example_at_any_depth_and_given_ones_are_kept() -> None:
    answer = {"id": 5, "links": {}, "runs": [{"id": 7}, {"id": 8, "url": "mine"}]}
    assert lacks_example_keys(answer, EXAMPLE)
    assert with_example_keys(answer, EXAMPLE) == {
        "id": 5,
        "links": {"self": "s"},
        "runs": [{"id": 7, "url": "u"}, {"id": 8, "url": "mine"}],
        "tags": ["x"],
    }


def test_values_of_another_kind_than_the_examples_are_left_alone() -> None:
    assert with_example_keys({"links": None, "runs": []}, EXAMPLE)["links"] is None
    assert with_example_keys([1, 2], [{"a": 1}]) == [1, 2]
    assert with_example_keys("text", {"a": 1}) == "text"
    assert not lacks_example_keys({"runs": []}, {"runs": [{"id": 1}]})
