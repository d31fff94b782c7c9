"""The `actions:` section of a model file: each method and path bound to exactly one effect, or a hook.

A `hook` (module:function) makes the action's answer; it may stand beside any effect, or alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .model import PLACEHOLDER, Action, Claim, Collection, StateMachine, Summary
from .modelfile_collections import path_template
from .modelfile_nodes import (
    Fields,
    boolean,
    fail,
    hook_reference,
    line_of,
    optional_text,
    plain,
    quoted,
    scalar,
    sequence,
    suggestion,
    text,
    text_list,
)

ACTION_KEYS = (
    "method",
    "path",
    "collection",
    "to",
    "to_from_body",
    "set",
    "set_from_body",
    "guard",
    "claim",
    "summary",
    "reset",
    "load",
    "hook",
)
# The effects an action has exactly one of; `set`/`set_from_body` is one more, on its own or beside these three.
EFFECTS = ("to", "to_from_body", "claim", "summary", "reset", "load")
SETS_BESIDE = ("to", "to_from_body", "claim")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REFERENCE = re.compile(r"\$(now|body\.(.+)|query\.(.+)|path\.(.+))")


def read_actions(
    node: yaml.Node, collections: dict[str, Collection], loadable: set[str], folder: Path
) -> tuple[Action, ...]:
    """Every action in file order; a method and path are bound once; hooks import from `folder`."""
    actions: list[Action] = []
    lines: dict[tuple[str, str], int] = {}
    for element in sequence(node, "actions"):
        action = _action(element, collections, loadable, folder)
        route = (action.method, action.path)
        if route in lines:
            fail(
                element,
                f"action {action.method} {action.path} is declared twice (first at line {lines[route]})",
                "keep one of them",
            )
        lines[route] = line_of(element)
        actions.append(action)
    return tuple(actions)


def _action(node: yaml.Node, collections: dict[str, Collection], loadable: set[str], folder: Path) -> Action:
    fields = Fields(node, "an action", ACTION_KEYS, required=("method", "path"))
    method_node = fields.values["method"]
    method = text(method_node, "the method of an action").upper()
    if method not in METHODS:
        fail(method_node, f"method {quoted(method)} is not an HTTP method", suggestion(method, METHODS, "methods"))
    path = path_template(fields.values["path"], f"the path of action {method}")
    where = f"action {method} {path}"
    effect = _effect(fields, where)
    collection = _collection(fields, where, collections, required=effect not in ("reset", "load", "hook"))
    if "{id}" in path and collection is not None and collection.item is None:
        fail(
            fields.values["path"],
            f"{where} names {{id}}, but collection {quoted(collection.name)} has no item path to read ids from",
            f'add `item: {path[: path.index("{id}")]}{{id}}` to collection "{collection.name}"',
        )
    machine = collection.machine if collection is not None else None
    return Action(
        method=method,
        path=path,
        collection=collection.name if collection is not None else None,
        to=_target(fields, where, collection) if effect == "to" else None,
        to_from_body=_body_state(fields, where, collection) if effect == "to_from_body" else None,
        set=_set(fields.get("set"), where, path),
        set_from_body=text_list(fields.values["set_from_body"], f"set_from_body of {where}")
        if "set_from_body" in fields
        else (),
        guard=_guard(fields.get("guard"), where, machine),
        claim=_claim(fields.values["claim"], where) if effect == "claim" else None,
        summary=_summary(fields.values["summary"], where) if effect == "summary" else None,
        reset=effect == "reset" and _reset(fields.values["reset"], where),
        load=_load(fields.values["load"], where, loadable) if effect == "load" else None,
        hook=hook_reference(fields.values["hook"], f"the hook of {where}", folder) if "hook" in fields else None,
    )


def _effect(fields: Fields, where: str) -> str:
    """The one effect the action has: one of EFFECTS, "set" for field updates alone, or "hook" for a hook alone."""
    present = [key for key in EFFECTS if key in fields]
    if len(present) > 1:
        fail(
            fields.keys[present[1]],
            f"{where} has both {quoted(present[0])} and {quoted(present[1])}",
            "an action has one effect: split it into two actions",
        )
    setters = [key for key in ("set", "set_from_body", "guard") if key in fields]
    if present and present[0] not in SETS_BESIDE and setters:
        fail(
            fields.keys[setters[0]],
            f"{quoted(setters[0])} cannot accompany {quoted(present[0])} in {where}",
            f"only to, to_from_body and claim take {setters[0]}: remove it or make it an action of its own",
        )
    if present:
        return present[0]
    if "set" in fields or "set_from_body" in fields:
        return "set"
    if "hook" in fields:
        return "hook"
    fail(
        fields.node,
        f"{where} has no effect",
        "add one of to, to_from_body, set, set_from_body, claim, summary, reset, load, hook",
    )


def _collection(fields: Fields, where: str, collections: dict[str, Collection], required: bool) -> Collection | None:
    node = fields.get("collection")
    if node is None:
        if required:
            fail(
                fields.node, f"{where} names no collection", "add `collection: <name>` (one of the file's collections)"
            )
        return None
    name = text(node, f"the collection of {where}")
    if name not in collections:
        fail(
            node,
            f"{where} names collection {quoted(name)}, which the file does not declare",
            suggestion(name, collections, "collections"),
        )
    return collections[name]


def _machine(node: yaml.Node, where: str, collection: Collection | None) -> StateMachine:
    if collection is None or collection.machine is None:
        name = collection.name if collection is not None else "?"
        fail(
            node,
            f"{where} is a transition, but collection {quoted(name)} has no state machine",
            f"add `state:` to collection {quoted(name)}",
        )
    return collection.machine


def _target(fields: Fields, where: str, collection: Collection | None) -> str:
    node = fields.values["to"]
    machine = _machine(node, where, collection)
    state = text(node, f"the target state of {where}")
    if state not in machine.states:
        assert collection is not None
        fail(
            node,
            f"{where}: {quoted('to')} names state {quoted(state)}, which collection {quoted(collection.name)} does not have",
            f"its states are {', '.join(machine.states)}",
        )
    return state


def _body_state(fields: Fields, where: str, collection: Collection | None) -> str:
    node = fields.values["to_from_body"]
    _machine(node, where, collection)
    return text(node, f"to_from_body of {where}")


def _set(node: yaml.Node | None, where: str, path: str) -> dict[str, Any]:
    if node is None:
        return {}
    updates = Fields(node, f"set of {where}", None)
    values: dict[str, Any] = {}
    for name, value_node in updates.items():
        value = plain(value_node, f"set {name} of {where}")
        if isinstance(value, str) and value.startswith("$"):
            reference = REFERENCE.fullmatch(value)
            if reference is None:
                fail(
                    value_node,
                    f"{quoted(value)} in {where} is not a value pactmock fills in",
                    "write $now, $body.<field>, $query.<name> or $path.<name>",
                )
            if reference.group(4) is not None and reference.group(4) not in PLACEHOLDER.findall(path):
                fail(
                    value_node,
                    f"{quoted(value)} in {where} names a path parameter the path does not have",
                    f"use one of {{{'}, {'.join(PLACEHOLDER.findall(path))}}} or add it to the path",
                )
        values[name] = value
    return values


def _guard(node: yaml.Node | None, where: str, machine: StateMachine | None) -> dict[str, tuple[Any, ...]]:
    if node is None:
        return {}
    guards = Fields(node, f"the guard of {where}", None)
    allowed: dict[str, tuple[Any, ...]] = {}
    for name, value_node in guards.items():
        elements = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        values = tuple(scalar(element, f"guard {name} of {where}") for element in elements)
        for element, value in zip(elements, values, strict=True):
            if machine is not None and name == machine.field and value not in machine.states:
                fail(
                    element,
                    f"guard {name} of {where} names {quoted(str(value))}, which is not a state",
                    f"its states are {', '.join(machine.states)}",
                )
        allowed[name] = values
    return allowed


def _matches(node: yaml.Node, what: str) -> dict[str, Any]:
    """A field -> scalar mapping, each value kept as the type YAML gives it."""
    return {name: scalar(value, f"{what}.{name}") for name, value in Fields(node, what, None).items()}


def _claim(node: yaml.Node, where: str) -> Claim:
    fields = Fields(node, f"the claim of {where}", ("where", "create_when_none"))
    create = fields.get("create_when_none")
    return Claim(
        where=_matches(fields.values["where"], f"claim where of {where}") if "where" in fields else {},
        create_when_none=False if create is None else boolean(create, f"create_when_none of {where}"),
    )


def _summary(node: yaml.Node, where: str) -> Summary:
    fields = Fields(node, f"the summary of {where}", ("totals", "items"))
    totals: dict[str, Any] = {}
    if (totals_node := fields.get("totals")) is not None:
        for name, value in Fields(totals_node, f"the totals of {where}", None).items():
            if isinstance(value, yaml.MappingNode):
                totals[name] = _matches(value, f"total {name} of {where}")
            elif scalar(value, f"total {name}") == "*":
                totals[name] = "*"
            else:
                fail(
                    value,
                    f'total {name} of {where} is neither "*" nor a mapping',
                    'write "*" to count all, or {field: value} to count matches',
                )
    items = fields.get("items")
    return Summary(totals=totals, items=None if items is None else optional_text(items, f"summary items of {where}"))


def _reset(node: yaml.Node, where: str) -> bool:
    if not boolean(node, f"reset of {where}"):
        fail(node, f"reset: false in {where} does nothing", "write reset: true, or give the action another effect")
    return True


def _load(node: yaml.Node, where: str, loadable: set[str]) -> str:
    name = text(node, f"load of {where}")
    if name not in loadable:
        fail(
            node,
            f"{where} loads {quoted(name)}, which is neither a fixture nor a scenario",
            suggestion(name, sorted(loadable), "fixtures and scenarios"),
        )
    return name
