"""A provider's model worked out from its pact: collections from path shapes, ids and envelopes from examples.

`POST /tasks` creates and `GET /tasks` lists collection `tasks`; `/tasks/<one segment>` is an item of it
(read, PUT, PATCH, DELETE); `POST /tasks/<id>/cancel` is an action, whose answer's fields that differ from
the item's example become the fields it sets. A model file (modelfile.py) says the rest, or overrides this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..contract.match.rulepaths import INDEX_STAR, parse_path
from ..contract.model import Interaction
from .model import Action, Collection, IdRule, ResourceModel, template_pattern

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PREFIXED = re.compile(r"^([A-Za-z][A-Za-z0-9]*[_-])([A-Za-z0-9]+)$")
TOTAL_KEYS = ("total", "count", "totalCount", "total_count")
ITEM_METHODS = ("GET", "PUT", "PATCH", "DELETE")


def infer_model(provider: str, interactions: Iterable[Interaction], source: str = "") -> ResourceModel:
    """The collections and actions this provider's HTTP interactions show."""
    shown = [i for i in interactions if not i.problem]
    bases = _collection_paths(shown)
    collections: dict[str, Collection] = {}
    actions: list[Action] = []
    for base in sorted(bases, key=len, reverse=True):
        name = _name_of(base, collections)
        collection = _collection(name, base, [i for i in shown if _under(i.path, base)])
        collections[name] = collection
        actions.extend(_actions(collection, shown))
    return ResourceModel(provider, collections, tuple(actions), source=source or f"inferred from {provider}'s pact")


def _collection_paths(interactions: list[Interaction]) -> set[str]:
    """Paths that are listed (GET answering an array or envelope) or created in (POST answering an object)."""
    listed, created = set(), set()
    for interaction in interactions:
        body = interaction.response.body.value
        if not 200 <= interaction.response.status < 300:
            continue
        if interaction.method == "POST" and isinstance(body, dict) and _id_field(body, interaction.path):
            created.add(interaction.path.rstrip("/"))
        elif interaction.method == "GET" and _listed(body) is not None:
            listed.add(interaction.path.rstrip("/"))
    bases = listed | created

    def inside_another(path: str) -> bool:
        # /tasks/7 (an item) or /tasks/7/cancel (an action) under /tasks; a nested list is a collection.
        depth = path.count("/")
        return any(_under(path, o) and depth - o.count("/") in (1, 2) for o in bases if o != path)

    return {b for b in bases if not (inside_another(b) and b not in listed)}


def _under(path: str, base: str) -> bool:
    return path.rstrip("/") == base or path.startswith(base + "/")


def _name_of(base: str, taken: dict[str, Collection]) -> str:
    name = base.rsplit("/", 1)[-1] or "items"
    return name if name not in taken else base.strip("/").replace("/", "_")


def _listed(body: Any) -> tuple[str | None, list[Any]] | None:
    """(envelope key or None, the items) when the body is a list of objects, bare or in an envelope."""
    if isinstance(body, list) and all(isinstance(i, dict) for i in body):
        return None, body
    if isinstance(body, dict) and not _id_field(body, ""):  # an object with an id is an item, not an envelope
        lists = [(k, v) for k, v in body.items() if isinstance(v, list) and all(isinstance(i, dict) for i in v)]
        if len(lists) == 1:
            return lists[0]
    return None


def _id_field(example: dict[str, Any], path: str) -> str | None:
    singular = path.rstrip("/").rsplit("/", 1)[-1].rstrip("s")
    for field in ("id", f"{singular}Id", f"{singular}_id", "uuid", "name"):
        if field in example and isinstance(example[field], str | int) and not isinstance(example[field], bool):
            return field
    return None


def _collection(name: str, base: str, interactions: list[Interaction]) -> Collection:
    example: dict[str, Any] = {}
    envelope: str | None = None
    total: str | None = None
    given_ids = False
    for interaction in interactions:
        body = interaction.response.body.value
        if not 200 <= interaction.response.status < 300:
            continue
        at_base = interaction.path.rstrip("/") == base
        if at_base and interaction.method == "GET" and (listed := _listed(body)) is not None:
            envelope, items = listed
            if isinstance(body, dict):
                total = next((k for k in TOTAL_KEYS if isinstance(body.get(k), int)), None)
            if items and not example:
                example = dict(items[0])
        elif isinstance(body, dict) and _id_field(body, base) and (at_base or _is_item(interaction.path, base)):
            if at_base and interaction.method == "POST":
                example = dict(body)
                request = interaction.request.body.value
                given_ids = isinstance(request, dict) and _id_field(body, base) in request
            elif not example:
                example = dict(body)
    id_field = _id_field(example, base) or "id"
    ids = _id_rule(id_field, example.get(id_field), given_ids)
    filters = tuple(k for k, v in example.items() if k != id_field and isinstance(v, str | int | bool))
    item = f"{base}/{{id}}" if any(_is_item(i.path, base) for i in interactions) else None
    return Collection(name, base, item, ids, envelope, total, filters, example=example)


def _is_item(path: str, base: str) -> bool:
    rest = path[len(base) + 1 :] if path.startswith(base + "/") else ""
    return bool(rest) and "/" not in rest.rstrip("/")


def _id_rule(field: str, value: Any, given: bool) -> IdRule:
    if given:
        return IdRule(field, "given")
    if isinstance(value, int) and not isinstance(value, bool):
        return IdRule(field, "counter", start=max(value, 1))
    if isinstance(value, str) and UUID.match(value):
        return IdRule(field, "uuid")
    if isinstance(value, str) and (prefixed := PREFIXED.match(value)):
        return IdRule(field, "prefixed", prefix=prefixed.group(1), width=max(len(prefixed.group(2)), 1))
    if isinstance(value, str) and value.isdigit():
        return IdRule(field, "prefixed", prefix="", start=max(int(value), 1), width=len(value))
    return IdRule(field, "uuid")


def _actions(collection: Collection, interactions: list[Interaction]) -> list[Action]:
    """`POST <item>/<verb>`: an action on the item, setting the fields its answer changes."""
    actions: dict[str, Action] = {}
    base = collection.path or ""
    for interaction in interactions:
        rest = interaction.path[len(base) + 1 :] if interaction.path.startswith(base + "/") else ""
        parts = rest.strip("/").split("/")
        if interaction.method != "POST" or len(parts) != 2 or not collection.item:
            continue
        path = f"{base}/{{id}}/{parts[1]}"
        body = interaction.response.body.value
        changes = {}
        if isinstance(body, dict):
            changes = {
                k: v
                for k, v in body.items()
                if k in collection.example and v != collection.example[k] and k != collection.ids.field
            }
            changes = {k: v for k, v in changes.items() if isinstance(v, str | int | bool) and not _looks_variable(k)}
        actions.setdefault(path, Action("POST", path, collection.name, set=changes))
    return list(actions.values())


def _looks_variable(field: str) -> bool:
    """Fields that differ between any two examples (times, counters), not because the action set them."""
    lowered = field.lower()
    return any(word in lowered for word in ("time", "date", "_at", "updated", "created", "version"))


def example_item(collection: Collection, interactions: Iterable[Interaction]) -> dict[str, Any]:
    """The item a declared collection's routes show in the pact: a created, read or listed one ({} if none)."""
    at_path = template_pattern(collection.path) if collection.path else None
    at_item = template_pattern(collection.item) if collection.item else None
    found: dict[str, Any] = {}
    for interaction in _unfiltered_first(interactions):
        body = interaction.response.body.value
        if interaction.problem or not 200 <= interaction.response.status < 300:
            continue
        if at_path is not None and at_path.fullmatch(interaction.path):
            if interaction.method == "POST" and isinstance(body, dict):
                return dict(body)
            listed = _listed(body)
            if listed is not None and listed[1] and not found:
                found = dict(listed[1][0])
        elif at_item is not None and at_item.fullmatch(interaction.path) and isinstance(body, dict) and not found:
            found = dict(body)
    return found


def example_rules(collection: Collection, interactions: Iterable[Interaction]) -> dict[str, tuple[dict[str, Any], ...]]:
    """The pact's matchers for the fields of the collection's items: from its list (`$.tasks[*].status`) and
    its item reads (`$.status`); what a generated item's values must satisfy."""
    at_path = template_pattern(collection.path) if collection.path else None
    at_item = template_pattern(collection.item) if collection.item else None
    found: dict[str, tuple[dict[str, Any], ...]] = {}
    for interaction in _unfiltered_first(interactions):
        if interaction.problem or interaction.method != "GET" or not 200 <= interaction.response.status < 300:
            continue
        if at_path is not None and at_path.fullmatch(interaction.path):
            prefix: tuple[Any, ...] = (collection.envelope,) if collection.envelope else ()
        elif at_item is not None and at_item.fullmatch(interaction.path):
            prefix = ()
        else:
            continue
        for expression, rules in interaction.response.rules.get("body", {}).items():
            tokens = parse_path(expression)
            if prefix and tokens[: len(prefix)] == prefix and len(tokens) == len(prefix) + 2:
                if tokens[len(prefix)] in (INDEX_STAR, 0) and isinstance(tokens[-1], str):
                    found.setdefault(tokens[-1], rules.matchers)
            elif not prefix and at_item is not None and len(tokens) == 1 and isinstance(tokens[0], str):
                found.setdefault(tokens[0], rules.matchers)
    return found


def query_names(collection: Collection, interactions: Iterable[Interaction]) -> set[str]:
    """The query parameters the pact's list requests of the collection use (`offset`, `limit`, ...)."""
    at_path = template_pattern(collection.path) if collection.path else None
    return {
        name
        for interaction in interactions
        if at_path is not None and interaction.method == "GET" and at_path.fullmatch(interaction.path)
        for name in interaction.request.query
    }


def _unfiltered_first(interactions: Iterable[Interaction]) -> list[Interaction]:
    """Lists asked with the fewest query parameters first: a filtered list's example (`?statuses=RUNNING`) pins
    the values its filter chose, the unfiltered one shows what any item may hold."""
    return sorted(interactions, key=lambda interaction: len(interaction.request.query))
