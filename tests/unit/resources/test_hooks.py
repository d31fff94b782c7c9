"""The hook seam (app/resources/hooks.py): one call type and one answer rule for a model file's hooks and a coded
provider's routes, and route() resolving `module:function` as a model file's hooks are resolved."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from random import Random
from typing import Any

import pytest

from app.providers.registry import Binding, route
from app.resources.hooks import Answer, HookCall, HookError, answer_of

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def routed(**parts: Any) -> HookCall:
    """A route's call whose success example is a 201 with a JSON body and a text Content-Type when it has one."""
    return HookCall(status=201, example=lambda: {"id": 1}, **parts)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            Answer(409, {"why": "taken"}, headers={"Retry-After": "2"}),
            Answer(409, {"why": "taken"}, None, {"Retry-After": "2"}),
        ),
        ({"id": 7}, Answer(201, {"id": 7})),
        ([1, 2], Answer(201, [1, 2])),
        (None, Answer(201, {"id": 1})),
        ("$ ls\n", Answer(201, None, b"$ ls\n", {"Content-Type": "text/plain; charset=utf-8"})),
        (b"\x00zip", Answer(201, None, b"\x00zip", {"Content-Type": "application/octet-stream"})),
    ],
)
def test_a_hooks_value_is_answered_the_one_way_for_every_route(value: Any, expected: Answer) -> None:
    assert answer_of(value, routed()) == expected


def test_none_from_a_route_whose_example_has_no_body_is_an_empty_answer() -> None:
    assert answer_of(None, HookCall(status=204)) == Answer(204, None, b"")


def test_text_is_sent_with_the_examples_content_type_when_it_gives_one() -> None:
    call = routed(example_type="text/x-log")
    assert answer_of("line\n", call).headers == {"Content-Type": "text/x-log"}


def test_the_clock_is_read_once_and_only_when_a_hook_asks_for_the_time() -> None:
    reads: list[datetime] = []

    def clock() -> datetime:
        reads.append(NOW)
        return NOW

    call = HookCall(moment=clock)
    assert reads == []
    assert (call.now, call.now) == (NOW, NOW)
    assert len(reads) == 1
    assert HookCall(None, NOW).now == NOW  # a field hook is handed the time itself


def test_random_is_seeded_from_its_text_alike_in_every_call_or_is_the_generator_given() -> None:
    draws = [HookCall(seeded="Tasks POST /cancel").random.random() for _ in range(2)]
    assert draws[0] == draws[1] == Random("Tasks POST /cancel").random()
    given = Random(5)
    assert HookCall(None, NOW, given).random is given


def test_a_hook_reaching_for_a_store_it_was_not_handed_is_told_so() -> None:
    with pytest.raises(HookError, match="without a store: only a route's hook is handed it"):
        HookCall(None, NOW).store.writing()
    with pytest.raises(HookError, match="without a policy"):
        _ = HookCall().policy.user_id


def test_a_binding_answers_its_hooks_value_with_the_random_seeded_from_the_route() -> None:
    def draw(call: HookCall) -> dict[str, float]:
        return {"drawn": call.random.random()}

    binding = Binding("Tasks", "POST", re.compile(r"/draw"), draw)
    first, second = binding.handler(routed()), binding.handler(routed())
    assert first == second == Answer(201, {"drawn": Random(r"Tasks POST /draw").random()})
    assert binding.handler.__qualname__.endswith("draw")


def test_route_resolves_its_hook_as_a_model_file_does_and_a_broken_name_stops_the_start() -> None:
    binding = route("Tasks", "GET", r"/items/(?P<id>[0-9]+)", "json:dumps", ("$.id",))
    assert binding.path.fullmatch("/items/12") is not None and binding.varies == ("$.id",)
    assert binding.hook.__module__ == "json" and binding.hook.__name__ == "dumps"
    with pytest.raises(HookError, match="must be written module:function"):
        route("Tasks", "GET", r"/items", "json.dumps")
    with pytest.raises(HookError, match="cannot be imported"):
        route("Tasks", "GET", r"/items", "app.providers.no_such_module:hook")
    with pytest.raises(HookError, match="has no callable 'nothing'"):
        route("Tasks", "GET", r"/items", "app.providers.epistemix.handlers:nothing")
