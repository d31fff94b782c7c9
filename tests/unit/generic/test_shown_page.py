"""A page of a generated collection keeps the values of hooks that read only their item (resources/shown_page.py):
each item is what the presenter answers for it alone, a hook that reads the time or the request is called for
every page, and a kept value never outlives a change of its item, the clock or the collection's count."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.resources.engine import Engine
from app.resources.values import Given
from tests.unit.generic.test_kept import NOW, registered
from tests.unit.generic.test_virtual import LIST_EXAMPLE, model

PAGE = {"offset": ["20"], "limit": ["20"]}
HOOKS = '''\
from collections import Counter

CALLS = Counter()


def label(call):
    """The item's name and a draw of its random: what it answers depends on the item alone."""
    CALLS["label"] += 1
    return f"{call.item['name']} #{call.random.randint(1, 999)}"


def age(call):
    """Seconds since the item was submitted: it follows the clock."""
    CALLS["age"] += 1
    submitted = call.item["submit_time"].replace("Z", "+00:00")
    return round((call.now - call.now.fromisoformat(submitted)).total_seconds())


def echo(call):
    """The item's age again, handed to it by the hook before: called again whenever that one is."""
    CALLS["echo"] += 1
    return call.item["age"]


def asked(call):
    """The page size the request asked for: it follows the request, not the item."""
    CALLS["asked"] += 1
    return call.query.get("limit", [""])[0]
'''


def hooked_engine(tmp_path: Path, hooks: dict[str, str], count: int = 1_000_000) -> Engine:
    (tmp_path / "pagehooks.py").write_text(HOOKS)
    base = model(count)
    workflows = base.collections["workflows"]
    assert workflows.generated is not None
    fields = {**workflows.generated.fields, **{field: {"hook": ref} for field, ref in hooks.items()}}
    collection = dataclasses.replace(workflows, generated=dataclasses.replace(workflows.generated, fields=fields))
    source = str(tmp_path / "UI-OSMO.model.yaml")
    store, _ = registered()
    return Engine(dataclasses.replace(base, collections={"workflows": collection}, source=source), store)


def given(query: dict[str, list[str]] = PAGE, now: Any = NOW, body: Any = None, path: Any = None) -> Given:
    return Given(body, query, path or {}, now, lambda: LIST_EXAMPLE)


def calls(engine: Engine) -> dict[str, int]:
    return dict(engine.presenter.hook("pagehooks:label").__globals__["CALLS"])


ALL = {"label": "pagehooks:label", "age": "pagehooks:age", "echo": "pagehooks:echo", "asked": "pagehooks:asked"}


def test_every_item_of_a_page_is_what_the_presenter_makes_of_it_alone(tmp_path: Path) -> None:
    engine = hooked_engine(tmp_path, ALL)
    for now in (NOW, NOW, NOW + timedelta(seconds=90), NOW + timedelta(days=3)):
        page = engine.listing("workflows", given(now=now))["workflows"]
        workflows = engine.collection("workflows")
        with engine.store.reading() as uow:
            documents, _ = engine.virtual.page(uow.items, workflows, PAGE, {}, now)
        alone = [engine.presenter.shown(workflows, document, given(now=now)) for document in documents]
        assert page == alone
        assert list(page[0]) == list(alone[0])  # the same keys in the same order


def test_a_hook_of_the_item_alone_is_called_once_and_one_of_the_time_or_request_on_every_page(tmp_path: Path) -> None:
    engine = hooked_engine(tmp_path, ALL)
    first = engine.listing("workflows", given())["workflows"]
    later = engine.listing("workflows", given(now=NOW + timedelta(seconds=100)))["workflows"]
    assert calls(engine) == {"label": 20, "age": 40, "echo": 40, "asked": 40}
    assert [w["label"] for w in later] == [w["label"] for w in first]
    assert [w["age"] - v["age"] for w, v in zip(later, first, strict=True)] == [100] * 20
    assert [w["echo"] for w in later] == [w["age"] for w in later]  # handed the new age, not the kept one
    smaller = engine.listing("workflows", given({"offset": ["20"], "limit": ["5"]}))["workflows"]
    assert {w["asked"] for w in smaller} == {"5"}
    assert [w["label"] for w in smaller] == [w["label"] for w in first[:5]]


def test_hooks_after_one_of_the_time_are_called_on_every_page(tmp_path: Path) -> None:
    engine = hooked_engine(tmp_path, {"age": "pagehooks:age", "label": "pagehooks:label"})
    engine.listing("workflows", given())
    engine.listing("workflows", given())
    assert calls(engine) == {"age": 40, "label": 40}  # label was handed the item with its age


def test_a_kept_value_does_not_outlive_a_change_of_its_item(tmp_path: Path) -> None:
    engine = hooked_engine(tmp_path, {"label": "pagehooks:label"})
    before = engine.listing("workflows", given())["workflows"]
    engine.change("workflows", given(path={"id": "25"}, body={"name": "renamed"}), merge=True)
    after = engine.listing("workflows", given())["workflows"]
    changed = next(w for w in after if w["id"] == 25)
    assert changed["name"] == "renamed" and changed["label"].startswith("renamed #")
    assert [w for w in after if w["id"] != 25] == [w for w in before if w["id"] != 25]
    engine.remove("workflows", given(path={"id": "26"}))
    assert 26 not in [w["id"] for w in engine.listing("workflows", given())["workflows"]]


def test_a_smaller_count_gives_the_page_its_own_items_and_a_reset_forgets_a_change(tmp_path: Path) -> None:
    engine = hooked_engine(tmp_path, {"label": "pagehooks:label"})
    first = engine.listing("workflows", given())["workflows"]
    engine.set_count("workflows", 22, NOW)
    page = engine.listing("workflows", given())
    assert page["total"] == 22 and page["workflows"] == first[:2]
    engine.set_count("workflows", 1_000_000, NOW)
    engine.change("workflows", given(path={"id": "25"}, body={"name": "renamed"}), merge=True)
    engine.reset(NOW)
    again = engine.listing("workflows", given())["workflows"]
    assert "renamed" not in {w["name"] for w in again} and not any(w["label"].startswith("renamed") for w in again)
