"""The items of a page of a generated collection as a client sees them, with what no request changes worked out once.

Once the items themselves are kept (virtual.py), the hooked fields are most of a page's cost: OSMO's model file
names five hooks per workflow, a hundred calls a page (bench/RESULTS.md, issue 17). A field hook is a function of
its call (hooks.py). One that read only the item, its random and `since` answers the same for the same item at
any time and for any request, so its value is kept with the item; one that read the time or the request is
called again for every page, and so is every hook after it on that item (it was handed the earlier values).

What is kept is keyed by the document it was made from (the object itself, held while kept). A generated item
is the same object while virtual.py keeps it and an overlay while no write of items is announced; a write, a
volume change and a reset give the page new documents, and nothing kept depends on the clock. Each item is what
Presenter.shown (clocked.py) makes of it: tests/unit/generic/test_shown_page.py holds the two side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from random import Random
from typing import Any

from .clocked import Presenter, hooks_of, in_example_order, is_clocked
from .hooks import HookCall, WatchedCall, hook_call
from .model import Collection
from .timeline import entered_at, seeded, visible
from .values import Given

# Items whose hook values a process keeps at once, whichever engine or session showed them; past it they are
# worked out again.
KEPT_ITEMS = 4096
# A hook's step that is called again for every page, rather than a kept value.
AGAIN = object()

# (field, hook reference, the place its random is seeded from, the kept value or AGAIN)
Step = tuple[str, str, str, Any]


class ShownItems:
    """id(document) -> (the document, its fields before the hooks, its hooks' steps, `since`)."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[dict[str, Any], dict[str, Any], tuple[Step, ...], Any]] = {}

    def page(
        self, presenter: Presenter, collection: Collection, documents: list[dict[str, Any]], given: Given
    ) -> list[dict[str, Any]]:
        """Each document as presenter.shown answers it."""
        hooks = hooks_of(collection)
        if not hooks or is_clocked(collection):  # a clocked collection's items are made anew on every read
            return [presenter.shown(collection, document, given) for document in documents]
        request = _Request(presenter, given)
        shown = []
        for document in documents:
            held = self._kept.get(id(document))  # held with the document: no other object has its id meanwhile
            if held is None:
                shown.append(self._first(request, collection, hooks, document))
                continue
            _, before, steps, since = held
            seen = dict(before)
            for field, reference, place, value in steps:
                seen[field] = request.run(reference, seen, place, since) if value is AGAIN else value
            shown.append(seen)
        return shown

    def _first(
        self, request: _Request, collection: Collection, hooks: dict[str, str], document: dict[str, Any]
    ) -> dict[str, Any]:
        """presenter.shown's answer, noting which hooks read nothing but the item (and what they answered)."""
        before = in_example_order(visible(document), collection.example)
        seen = dict(before)
        item_id = seen.get(collection.ids.field)
        since = entered_at(document, collection.machine) if collection.machine is not None else None
        steps: list[Step] = []
        again = False
        for field, reference in hooks.items():
            place = f"{collection.name}/{item_id}/{field}"
            call = request.call(seen, since, request.seeded(place), WatchedCall)
            seen[field] = request.presenter.hook(reference)(call)
            again = again or bool(call.read)  # type: ignore[attr-defined]
            steps.append((field, reference, place, AGAIN if again else seen[field]))
        if len(self._kept) >= KEPT_ITEMS:
            self._kept.clear()
        self._kept[id(document)] = (document, before, tuple(steps), since)
        return seen


# The one a process keeps (virtual.py hands it to every engine).
SHOWN = ShownItems()


class _Request:
    """What every hook of one page is handed besides its item: the calls Presenter.run makes."""

    def __init__(self, presenter: Presenter, given: Given) -> None:
        self.presenter = presenter
        self.given = given
        self.now = now = given.now
        self.seed = presenter.maker.model.seed

        def listing(name: str) -> list[dict[str, Any]]:
            return presenter.items_of(name, now)

        self.listing = listing

    def seeded(self, place: str) -> Random:
        return seeded(self.seed, place)

    def run(self, reference: str, seen: dict[str, Any], place: str, since: Any) -> Any:
        """The hook's value now; its random seeded only if it draws (a hook called for every page seldom does)."""
        call = self.call(seen, since, partial(seeded, self.seed, place), HookCall)
        return self.presenter.hook(reference)(call)

    def call(
        self, seen: dict[str, Any], since: Any, draw: Random | Callable[[], Random], made: type[HookCall]
    ) -> HookCall:
        given = self.given
        item = dict(seen) if seen else None
        return hook_call(
            given.call, item, self.now, draw, since, given.body, given.query, given.path, self.listing, made
        )
