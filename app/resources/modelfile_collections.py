"""The `collections:` section of a model file: paths, id rules, state machines, children, limits.

Time (`timed:`, `every:`) is read by modelfile_time.py; volume and hooks (`generated:`, `page:`, `hooks:`)
by modelfile_volume.py.
"""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path

import yaml

from .model import ID_STRATEGIES, PLACEHOLDER, Children, Collection, IdRule, StateMachine, Timed
from .modelfile_nodes import (
    Fields,
    fail,
    integer,
    is_null,
    optional_text,
    plain,
    quoted,
    sequence,
    suggestion,
    text,
    text_list,
)
from .modelfile_time import check_timed, read_every, read_timed
from .modelfile_volume import read_generated, read_hooks, read_page

COLLECTION_KEYS = (
    "path",
    "item",
    "id",
    "envelope",
    "total",
    "filters",
    "defaults",
    "capacity",
    "state",
    "children",
    "auto_create",
    "every",
    "generated",
    "page",
    "lookup",
    "hooks",
)
ID_KEYS = ("field", "strategy", "prefix", "start", "width")
STATE_KEYS = ("field", "initial", "states", "terminal", "transitions", "timed", "since")
CHILDREN_KEYS = ("collection", "count", "count_from", "field")


def path_template(node: yaml.Node, what: str) -> str:
    """A path template: starts with "/", and every brace belongs to a {name} placeholder."""
    path = text(node, what)
    if not path.startswith("/"):
        fail(node, f"{what} is {quoted(path)}, which does not start with /", f'write "/{path}"')
    if "{" in PLACEHOLDER.sub("", path) or "}" in PLACEHOLDER.sub("", path):
        fail(
            node,
            f"{what} is {quoted(path)}, which has a brace outside a {{name}} placeholder",
            "write placeholders as {name}",
        )
    return path


def read_collections(node: yaml.Node, folder: Path) -> dict[str, Collection]:
    """Every collection by name; children must name another collection of the file; hooks import from `folder`."""
    entries = Fields(node, "collections", None)
    collections = {name: _collection(name, value, folder) for name, value in entries.items()}
    for name, value in entries.items():
        _check_parent(name, value, collections)
        children = Fields(value, f"collection {quoted(name)}", COLLECTION_KEYS).get("children")
        child = collections[name].children
        if children is None or child is None:
            continue
        collection_node = Fields(children, "", CHILDREN_KEYS).get("collection") or children
        if child.collection not in collections:
            fail(
                collection_node,
                f"children of collection {quoted(name)} name collection {quoted(child.collection)}, which the file does not declare",
                suggestion(child.collection, collections, "collections"),
            )
        if child.collection == name:
            fail(collection_node, f"collection {quoted(name)} names itself as its children", "name another collection")
        if child.field == collections[child.collection].ids.field:
            fail(
                children,
                f"children field {quoted(child.field)} is the id field of collection {quoted(child.collection)}",
                "name the child's field that holds the parent's id, such as the parent's name",
            )
    return collections


def _check_parent(name: str, node: yaml.Node, collections: dict[str, Collection]) -> None:
    """A generated collection's parent is another generated collection of the file."""
    generated = collections[name].generated
    if generated is None or generated.parent is None:
        return
    where = Fields(Fields(node, "", COLLECTION_KEYS).values["generated"], "", None)
    at = where.get("parent") or node
    parent = collections.get(generated.parent)
    if parent is None or parent.generated is None or generated.parent == name:
        others = [other for other, c in collections.items() if c.generated is not None and other != name]
        fail(
            at,
            f"the parent of collection {quoted(name)} is {quoted(generated.parent)}, which is not another generated collection",
            suggestion(generated.parent, others, "generated collections"),
        )


def _collection(name: str, node: yaml.Node, folder: Path) -> Collection:
    where = f"collection {quoted(name)}"
    fields = Fields(node, where, COLLECTION_KEYS)
    path = item = None
    if (value := fields.get("path")) is not None:
        path = None if is_null(value) else path_template(value, f"the path of {where}")
    if (value := fields.get("item")) is not None:
        item = None if is_null(value) else path_template(value, f"the item path of {where}")
        if item is not None and "{id}" not in item:
            fail(value, f"the item path {quoted(item)} of {where} has no {{id}}", f'write "{item.rstrip("/")}/{{id}}"')
    ids = _id_rule(fields.get("id"), where)
    machine = _machine(fields.get("state"), where)
    auto_create = 0
    if (value := fields.get("auto_create")) is not None:
        auto_create = integer(value, f"auto_create of {where}", 0)
        if auto_create and path is not None and not PLACEHOLDER.search(path):
            fail(
                value,
                f"auto_create of {where} needs a {{param}} naming the items to create, and its path {quoted(path)} has none",
                "bind the name in the path, such as /pools/{pool}/workspaces",
            )
    return Collection(
        name=name,
        path=path,
        item=item,
        ids=ids,
        envelope=_optional(fields, "envelope", f"the envelope of {where}"),
        total=_optional(fields, "total", f"the total key of {where}"),
        filters=text_list(fields.values["filters"], f"the filters of {where}") if "filters" in fields else (),
        defaults=_defaults(fields.get("defaults"), where),
        capacity=_capacity(fields.get("capacity"), where),
        machine=machine,
        children=_children(fields.get("children"), where),
        auto_create=auto_create,
        every=read_every(fields.values["every"], where, machine) if "every" in fields else (),
        generated=read_generated(fields.values["generated"], where, ids.field, folder)
        if "generated" in fields
        else None,
        page=read_page(fields.values["page"], where) if "page" in fields else None,
        lookup=text_list(fields.values["lookup"], f"the lookup fields of {where}") if "lookup" in fields else (),
        hooks=read_hooks(fields.values["hooks"], where, folder) if "hooks" in fields else {},
    )


def _optional(fields: Fields, key: str, what: str) -> str | None:
    node = fields.get(key)
    return None if node is None else optional_text(node, what)


def _defaults(node: yaml.Node | None, where: str) -> dict[str, object]:
    if node is None:
        return {}
    values = plain(node, f"the defaults of {where}")
    if not isinstance(values, dict):
        fail(node, f"the defaults of {where} must be a mapping", "write `{field: value, ...}`")
    return values


def _capacity(node: yaml.Node | None, where: str) -> int | None:
    if node is None or is_null(node):
        return None
    return integer(node, f"the capacity of {where}", 1)


def _id_rule(node: yaml.Node | None, where: str) -> IdRule:
    if node is None:
        return IdRule()
    what = f"the id of {where}"
    fields = Fields(node, what, ID_KEYS)
    strategy = "counter"
    if (value := fields.get("strategy")) is not None:
        strategy = text(value, f"the id strategy of {where}")
        if strategy not in ID_STRATEGIES:
            fail(
                value,
                f"id strategy {quoted(strategy)} of {where} is not one pactmock knows",
                suggestion(strategy, ID_STRATEGIES, "strategies"),
            )
    rule = IdRule(
        field=text(fields.values["field"], f"the id field of {where}") if "field" in fields else "id", strategy=strategy
    )
    if (value := fields.get("prefix")) is not None:
        if strategy != "prefixed":
            fail(
                value,
                f"{what} has a prefix, which only the prefixed strategy uses",
                'remove it, or write "strategy: prefixed"',
            )
        rule = IdRule(rule.field, strategy, text(value, f"the id prefix of {where}"))
    elif strategy == "prefixed":
        fail(fields.node, f"{what} is prefixed but has no prefix", "add `prefix: item_` (the text before the number)")
    start, width = rule.start, rule.width
    if (value := fields.get("start")) is not None:
        if strategy not in ("counter", "prefixed"):
            fail(value, f"{what} has a start, which the {strategy} strategy does not count from", "remove it")
        start = integer(value, f"the id start of {where}", 0)
    if (value := fields.get("width")) is not None:
        if strategy != "prefixed":
            fail(value, f"{what} has a width, which only the prefixed strategy pads numbers to", "remove it")
        width = integer(value, f"the id width of {where}", 1)
    return IdRule(rule.field, strategy, rule.prefix, start, width)


def _machine(node: yaml.Node | None, where: str) -> StateMachine | None:
    if node is None:
        return None
    what = f"the state machine of {where}"
    fields = Fields(node, what, STATE_KEYS, required=("field", "initial"))
    declared = text_list(fields.values["states"], f"the states of {where}") if "states" in fields else None
    # Every state name written, with its node, in the order the file writes them.
    seen: list[tuple[str, yaml.Node]] = []
    transitions: dict[str, tuple[str, ...]] = {}
    terminal: tuple[str, ...] = ()
    timed: dict[str, Timed] = {}
    for key, value in fields.items():
        if key == "initial":
            seen.append((text(value, f"the initial state of {where}"), value))
        elif key == "terminal":
            terminal = text_list(value, f"the terminal states of {where}")
            seen += zip(terminal, sequence(value, ""), strict=True)
        elif key == "transitions":
            moves = Fields(value, f"the transitions of {where}", None)
            for source, targets in moves.items():
                seen.append((source, moves.keys[source]))
                transitions[source] = text_list(targets, f"the transitions from {quoted(source)} in {where}")
                seen += zip(transitions[source], sequence(targets, ""), strict=True)
        elif key == "timed":
            timed = read_timed(value, where, seen)
    states = declared if declared is not None else tuple(dict.fromkeys(name for name, _ in seen))
    _check_states(seen, states, declared is not None, where)
    for source in transitions:
        if source in terminal:
            fail(
                Fields(fields.values["transitions"], "", None).keys[source],
                f"terminal state {quoted(source)} of {where} has transitions",
                f"remove its transitions, or remove {quoted(source)} from terminal",
            )
    state_field = text(fields.values["field"], f"the state field of {where}")
    since = fields.get("since")
    if since is not None and text(since, f"the since field of {where}") == state_field:
        fail(since, f"the since field of {where} is its state field {quoted(state_field)}", "name another field")
    machine = StateMachine(
        field=state_field,
        initial=text(fields.values["initial"], f"the initial state of {where}"),
        states=states,
        terminal=frozenset(terminal),
        transitions=transitions,
        timed=timed,
        since=None if since is None else text(since, f"the since field of {where}"),
    )
    if "timed" in fields:
        check_timed(fields.values["timed"], machine, where)
    return machine


def _check_states(seen: list[tuple[str, yaml.Node]], states: tuple[str, ...], declared: bool, where: str) -> None:
    """Each name written is a state: one of `states:` when listed, else not a lone near-twin of another state."""
    if declared:
        for name, node in seen:
            if name not in states:
                fail(
                    node,
                    f"{quoted(name)} is not one of the states of {where}",
                    f"{suggestion(name, states, 'states')} (or add it to states)",
                )
        return
    counts = Counter(name for name, _ in seen)
    for name, node in seen:
        others = [state for state in states if state != name]
        close = difflib.get_close_matches(name, others, n=1, cutoff=0.85)
        if counts[name] == 1 and close:
            fail(
                node,
                f"state {quoted(name)} of {where} appears only here and is close to {quoted(close[0])}",
                f'did you mean "{close[0]}"? (if both are states, list them all under `states:`)',
            )


def _children(node: yaml.Node | None, where: str) -> Children | None:
    if node is None:
        return None
    what = f"the children of {where}"
    fields = Fields(node, what, CHILDREN_KEYS, required=("collection", "count", "field"))
    count_from = fields.get("count_from")
    return Children(
        collection=text(fields.values["collection"], f"the collection of {what}"),
        count=integer(fields.values["count"], f"the count of {what}", 0),
        field=text(fields.values["field"], f"the field of {what}"),
        count_from=None if count_from is None else optional_text(count_from, f"count_from of {what}"),
    )
