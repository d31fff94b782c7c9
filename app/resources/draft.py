"""A ResourceModel written out as a model file: what `pactmock model PACT` prints for a user to edit.

The text reads back (modelfile.read_model_file) as an equal model, but for each collection's `example`,
which comes from the pact and is not part of the format.
"""

from __future__ import annotations

from typing import Any

import yaml

from .model import Action, Collection, Every, Generated, IdRule, Page, ResourceModel, StateMachine, Timed


def draft_yaml(model: ResourceModel) -> str:
    """The model as model-file text, with a header saying where it came from."""
    document: dict[str, Any] = {"version": 1, "provider": model.provider}
    if model.seed:
        document["seed"] = model.seed
    if model.auth is not None:
        auth = model.auth
        document["auth"] = (
            {"any": True}
            if auth.any_token
            else {"allow": list(auth.allow)}
            if auth.allow
            else {"bearer_prefix": auth.bearer_prefix}
        )
    if model.collections:
        document["collections"] = {
            name: _Block(_collection(collection)) for name, collection in model.collections.items()
        }
    if model.actions:
        document["actions"] = [_Block(_action(action)) for action in model.actions]
    if model.fixtures:
        document["fixtures"] = {
            name: {collection: [_Flow(item) for item in items] for collection, items in fixture.items()}
            for name, fixture in model.fixtures.items()
        }
    if model.scenarios:
        document["scenarios"] = {name: list(fixtures) for name, fixtures in model.scenarios.items()}
    if model.start:
        document["start"] = list(model.start)
    if model.states:
        document["states"] = {name: list(fixtures) for name, fixtures in model.states.items()}
    # A blank line after the opening keys and between the sections that follow them.
    opening = _Block((key, document.pop(key)) for key in ("version", "provider", "seed", "auth") if key in document)
    sections = [_dump(opening), *(_dump(_Block({key: value})) for key, value in document.items())]
    return _header(model) + "\n".join(sections)


class _Block(dict[str, Any]):
    """A mapping written one key a line (a collection, an action, a state machine)."""


class _Flow(dict[str, Any]):
    """A mapping written on one line (a fixture item), however deep."""


class _DraftDumper(yaml.SafeDumper):
    """Safe YAML with lists indented under their key, and _Block and _Flow mappings styled as named."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # PyYAML writes a list flush with its parent key; indented reads better in a file meant to be edited.
        super().increase_indent(flow, False)


_DraftDumper.add_representer(
    _Block, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False)
)
_DraftDumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def _header(model: ResourceModel) -> str:
    origin = model.source if model.source.startswith("inferred") else f"written from {model.source or 'a model'}"
    lines = [
        f"# pactmock model file for provider {model.provider}: {origin}.",
        "# Every key may be edited, and what a key leaves out is inferred from the pact again;",
        "# docs/resources.md describes each one. Save it beside the pact as <pact name>.model.yaml.",
    ]
    return "\n".join(lines) + "\n"


def _dump(document: _Block) -> str:
    # Flow style for the innermost lists and mappings only keeps fixtures and transitions one line each.
    text = yaml.dump(
        document, Dumper=_DraftDumper, sort_keys=False, default_flow_style=None, allow_unicode=True, width=110
    )
    return str(text)


def _collection(collection: Collection) -> dict[str, Any]:
    written: dict[str, Any] = {}
    if collection.path is not None:
        written["path"] = collection.path
    if collection.item is not None:
        written["item"] = collection.item
    written["id"] = _id_rule(collection.ids)
    written["envelope"] = collection.envelope
    if collection.total is not None:
        written["total"] = collection.total
    if collection.filters:
        written["filters"] = list(collection.filters)
    if collection.defaults:
        written["defaults"] = dict(collection.defaults)
    if collection.capacity is not None:
        written["capacity"] = collection.capacity
    if collection.machine is not None:
        written["state"] = _Block(_machine(collection.machine))
    if collection.children is not None:
        children = collection.children
        written["children"] = {"collection": children.collection, "count": children.count, "field": children.field}
        if children.count_from is not None:
            written["children"]["count_from"] = children.count_from
    if collection.auto_create:
        written["auto_create"] = collection.auto_create
    if collection.every:
        written["every"] = [_every(every) for every in collection.every]
    if collection.generated is not None:
        written["generated"] = _Block(_generated(collection.generated))
    if collection.page is not None:
        written["page"] = _page(collection.page)
    if collection.lookup:
        written["lookup"] = list(collection.lookup)
    if collection.hooks:
        written["hooks"] = dict(collection.hooks)
    return written


def _id_rule(rule: IdRule) -> dict[str, Any]:
    written: dict[str, Any] = {"field": rule.field, "strategy": rule.strategy}
    if rule.strategy == "prefixed":
        written["prefix"] = rule.prefix
        written["width"] = rule.width
    if rule.strategy in ("counter", "prefixed"):
        written["start"] = rule.start
    return written


def _machine(machine: StateMachine) -> dict[str, Any]:
    # Every state is listed, so the order of `states` survives and a state no transition names is kept.
    written: dict[str, Any] = {"field": machine.field, "initial": machine.initial, "states": list(machine.states)}
    if machine.terminal:
        listed = [state for state in machine.states if state in machine.terminal]
        written["terminal"] = listed + sorted(machine.terminal.difference(machine.states))
    if machine.transitions:
        written["transitions"] = {state: list(targets) for state, targets in machine.transitions.items()}
    if machine.timed:
        written["timed"] = {state: _Flow(_timed(timed)) for state, timed in machine.timed.items()}
    if machine.since is not None:
        written["since"] = machine.since
    return written


def _seconds(value: float) -> float:
    """3.0 written as 3: a duration reads better whole."""
    return int(value) if float(value).is_integer() else value


def _timed(timed: Timed) -> dict[str, Any]:
    after: Any = _seconds(timed.low) if timed.low == timed.high else [_seconds(timed.low), _seconds(timed.high)]
    to: Any = timed.to[0][0] if len(timed.to) == 1 else {state: chance for state, chance in timed.to}
    return {"after": after, "to": to}


def _every(every: Every) -> dict[str, Any]:
    written: dict[str, Any] = {"seconds": _seconds(every.seconds)}
    if every.start:
        written["start"] = every.start
    if every.stop:
        written["stop"] = every.stop
    if every.stop_to is not None:
        written["stop_to"] = every.stop_to
    return written


def _generated(generated: Generated) -> dict[str, Any]:
    written: dict[str, Any] = {"count": generated.count}
    if generated.fields:
        written["fields"] = {name: _Flow(rule) for name, rule in generated.fields.items()}
    if generated.parent is not None:
        written["parent"] = generated.parent
    if generated.inherit:
        written["inherit"] = _Flow(dict(generated.inherit))
    return written


def _page(page: Page) -> dict[str, Any]:
    return {"style": page.style, "start": page.start, "size": page.size, "default": page.default, "max": page.largest}


def _action(action: Action) -> dict[str, Any]:
    written: dict[str, Any] = {"method": action.method, "path": action.path}
    if action.collection is not None:
        written["collection"] = action.collection
    effects: dict[str, Any] = {
        "to": action.to,
        "to_from_body": action.to_from_body,
        "claim": action.claim
        and {"where": dict(action.claim.where), "create_when_none": action.claim.create_when_none},
        "summary": action.summary and {"totals": dict(action.summary.totals), "items": action.summary.items},
        "reset": action.reset or None,
        "load": action.load,
        "set": dict(action.set) or None,
        "set_from_body": list(action.set_from_body) or None,
        "guard": {name: list(values) for name, values in action.guard.items()} or None,
        "hook": action.hook,
    }
    written.update((key, value) for key, value in effects.items() if value is not None)
    return written
