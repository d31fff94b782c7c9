"""Time in a model file: a state machine's `timed:` moves and a collection's periodic `every:` events.

A timed move says how long an item stays in a state (a fixed number of seconds, or a range drawn from the
seed) and where it goes then (one state, or several with probabilities). A periodic event starts a new item
or stops a live one every so many seconds, with given probabilities.
"""

from __future__ import annotations

import yaml

from .model import Every, StateMachine, Timed
from .modelfile_nodes import (
    Fields,
    fail,
    number,
    number_range,
    probability,
    quoted,
    sequence,
    text,
)

TIMED_KEYS = ("after", "to")
EVERY_KEYS = ("seconds", "start", "stop", "stop_to")
# Probabilities are written as decimals; their sum may miss 1 by rounding, never by more.
TOLERANCE = 1e-9

# A state name written in the file, with the node it is written at (for errors about it later).
Named = tuple[str, yaml.Node]


def read_timed(node: yaml.Node, where: str, seen: list[Named]) -> dict[str, Timed]:
    """state -> the move the clock makes from it; every state named is appended to `seen`."""
    moves: dict[str, Timed] = {}
    entries = Fields(node, f"the timed moves of {where}", None)
    for state, value in entries.items():
        seen.append((state, entries.keys[state]))
        moves[state] = _timed(value, f"the timed move from {quoted(state)} in {where}", seen)
    return moves


def _timed(node: yaml.Node, what: str, seen: list[Named]) -> Timed:
    fields = Fields(node, what, TIMED_KEYS, required=TIMED_KEYS)
    after = fields.values["after"]
    if isinstance(after, yaml.SequenceNode):
        low, high = number_range(after, f"after of {what}", 0)
    else:
        low = high = number(after, f"after of {what}", 0)
    return Timed(float(low), float(high), _targets(fields.values["to"], what, seen))


def _targets(node: yaml.Node, what: str, seen: list[Named]) -> tuple[tuple[str, float], ...]:
    """`to: state` (probability 1), or `to: {state: probability, ...}` summing to 1."""
    if not isinstance(node, yaml.MappingNode):
        state = text(node, f"the target state of {what}")
        seen.append((state, node))
        return ((state, 1.0),)
    branches = Fields(node, f"the targets of {what}", None)
    targets: list[tuple[str, float]] = []
    for state, value in branches.items():
        seen.append((state, branches.keys[state]))
        targets.append((state, float(probability(value, f"the probability of {quoted(state)} in {what}", False))))
    if not targets:
        fail(node, f"the targets of {what} name no state", "write `to: state`, or `to: {state: probability, ...}`")
    total = sum(chance for _, chance in targets)
    if abs(total - 1) > TOLERANCE:
        fail(
            node,
            f"the probabilities of the targets of {what} add up to {total:g}, not 1",
            "make them add up to 1, such as {failed: 0.5, terminated: 0.5}",
        )
    return tuple(targets)


def check_timed(node: yaml.Node, machine: StateMachine, where: str) -> None:
    """A terminal state never changes, so it cannot have a timed move."""
    entries = Fields(node, "", None)
    for state in machine.timed:
        if state in machine.terminal:
            fail(
                entries.keys[state],
                f"terminal state {quoted(state)} of {where} has a timed move",
                f"remove its timed move, or remove {quoted(state)} from terminal",
            )


def read_every(node: yaml.Node, where: str, machine: StateMachine | None) -> tuple[Every, ...]:
    """The periodic events of a collection, in file order."""
    return tuple(
        _every(element, f"periodic event {number_in_list} of {where}", machine)
        for number_in_list, element in enumerate(sequence(node, f"every of {where}"), start=1)
    )


def _every(node: yaml.Node, what: str, machine: StateMachine | None) -> Every:
    fields = Fields(node, what, EVERY_KEYS, required=("seconds",))
    seconds = number(fields.values["seconds"], f"the seconds of {what}", 0, above=True)
    start = stop = 0.0
    if (value := fields.get("start")) is not None:
        start = probability(value, f"the start probability of {what}", True)
    if (value := fields.get("stop")) is not None:
        stop = probability(value, f"the stop probability of {what}", True)
    if start + stop > 1 + TOLERANCE:
        fail(
            fields.node,
            f"the start and stop probabilities of {what} add up to {start + stop:g}, above 1",
            "lower them: in each period at most one of the two happens",
        )
    if not start and not stop:
        fail(fields.node, f"{what} neither starts nor stops an item", "give it `start:` or `stop:` a probability")
    stop_to = _stop_to(fields, what, machine, bool(stop))
    return Every(seconds=float(seconds), start=float(start), stop=float(stop), stop_to=stop_to)


def _stop_to(fields: Fields, what: str, machine: StateMachine | None, stops: bool) -> str | None:
    """The state a stopped item moves to: required with `stop`, and a state of the collection's machine."""
    node = fields.get("stop_to")
    if node is None:
        if stops:
            fail(
                fields.node,
                f"{what} stops items but has no stop_to",
                "add `stop_to: <state>` (where a stopped item goes)",
            )
        return None
    if not stops:
        fail(node, f"{what} has a stop_to but never stops an item", "give it `stop:` a probability, or remove stop_to")
    state = text(node, f"stop_to of {what}")
    if machine is None:
        fail(node, f"{what} stops items, but its collection has no state machine", "add `state:` to the collection")
    if state not in machine.states:
        fail(
            node,
            f"stop_to of {what} names {quoted(state)}, which is not a state",
            f"its states are {', '.join(machine.states)}",
        )
    return state
