"""The hook seam, the one way Python joins in serving: a model file's hooks and a coded provider's routes.

A hook is a function named `module:function` (`hooks:slices`, `app.providers.epistemix.handlers:submit_runs`).
`load_hook` resolves the name: the module is a file beside the model file if one is there, else an importable
module. The function gets one `HookCall` and returns a value:

- a field hook: the field's value, worked out when the item is read;
- an action hook or a route's hook: the answer. `answer_of` makes it HTTP the one way for every route: an
  `Answer` as it is (its own status and headers), None the contract's example, text as text, bytes as bytes,
  anything else as JSON, each with the status of the route's success example.

Its random generator is seeded from the model's seed, the item and the field or action (a route's hook outside
a model: from the route), so its answers are the same in every worker and after a restart. A field hook is a
function of its call: it reads the time as `call.now` and other items through `call.items_of`, never from
elsewhere, and changes nothing it is handed. A page of a generated collection relies on it: a field hook that
read only the item, its random and `since` is not called again for the same item (shown_page.py).

    def slices(call: HookCall) -> int:
        # about one processed slice per 10 s per active worker since the execution started running
        ...
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any, Protocol, cast

from ..domain.model import Policy
from ..domain.ports import Store


class HeaderLookup(Protocol):
    """A request's headers, looked up by name in any case (a dict of lower-case names will do in tests)."""

    def get(self, key: str, default: str | None = None, /) -> str | None:
        """The header's value, or `default`."""


class HookError(ValueError):
    """A hook reference that cannot be imported or is not callable, or a hook using what its call lacks."""


class _Absent:
    """What a call holds for a part it was not given: any use of it says which, instead of failing later."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and friends probing for their methods
        raise HookError(f"this hook was called without {self.what}: only a route's hook is handed it")


def _system_time() -> datetime:
    return datetime.now(UTC)


def _no_items(_name: str) -> list[dict[str, Any]]:
    return []


def _no_example() -> Any:
    return None


def _no_headers() -> HeaderLookup:
    return cast(HeaderLookup, {})


@dataclass
class HookCall:
    """What every hook gets: the item, the clock, a seeded random, the request, and what a route acts on."""

    # The item as a client sees it (None for a route, or an action on no item).
    item: dict[str, Any] | None = None
    # The time, or the clock to read it from when first needed (reading the mock's clock may cost a query).
    moment: datetime | Callable[[], datetime] = _system_time
    # A seeded generator, or the text (or a function making the generator) to seed one from when first asked:
    # most routes and field hooks never draw.
    seeded: Random | str | Callable[[], Random] = ""
    # When the item entered its state (for values that grow with time in a state), if known.
    since: datetime | None = None
    # The request: its JSON body (None when it has none or it is not JSON), query and path parameters.
    body: Any = None
    query: Mapping[str, list[str]] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)
    # The items of another collection of the provider as a client would read them now (controllers of the
    # executions that are not terminal, say); a generated collection's, up to 200,000.
    items_of: Callable[[str], list[dict[str, Any]]] = _no_items
    # What a route's hook acts on besides: the domain's store and policy, and the request as sent.
    store: Store = field(default=cast(Store, _Absent("a store")))
    policy: Policy = field(default=cast(Policy, _Absent("a policy")))
    headers: HeaderLookup = field(default_factory=_no_headers)
    data: bytes = b""
    content_type: str | None = None
    base_url: str = ""
    # The status, response body (generators applied, read when asked) and Content-Type of the route's interaction
    # that answers success: what a value the hook returns is answered with.
    status: int = 200
    example: Callable[[], Any] = _no_example
    example_type: str | None = None

    # Plain properties that keep what they made in place of what they were handed: functools.cached_property
    # takes a lock on every read (Python 3.11), and a page's hooks read the time a hundred times.
    @property
    def now(self) -> datetime:
        """The time the request is served at (the mock's clock, read once)."""
        if not isinstance(self.moment, datetime):
            self.moment = self.moment()
        return self.moment

    @property
    def random(self) -> Random:
        """A generator seeded from the model's seed and the item and field or action (or from the route)."""
        if not isinstance(self.seeded, Random):
            self.seeded = Random(self.seeded) if isinstance(self.seeded, str) else self.seeded()
        return self.seeded


@dataclass
class Answer:
    """A route's answer as HTTP: status and a JSON value, or bytes, plus headers."""

    status: int
    json: Any = None
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The generation of item writes (domain/cached.py) the answer was made at, when it is a function of the request
    # and that generation alone: while the generation holds, the same request may get the same bytes again.
    reusable_at: Hashable | None = None
    # ... and while the mock's clock is before this instant (the end of the clock step it read), if it read a
    # clock that moves in steps.
    reusable_until: datetime | None = None


# The parts of a call besides the item, its random and `since`: the time and the request's.
WATCHED_PARTS = (
    "moment",
    "body",
    "query",
    "path",
    "items_of",
    "store",
    "policy",
    "headers",
    "data",
    "content_type",
    "base_url",
    "status",
    "example",
    "example_type",
)


class WatchedCall(HookCall):
    """A HookCall that notes which of WATCHED_PARTS the hook read (`now` reads `moment`): a hook that read none
    of them answers the same for the same item, whenever and for whomever it is called."""

    def __init__(self, *parts: Any, **named: Any) -> None:
        self.read: set[str] = set()
        super().__init__(*parts, **named)


def _watched(name: str) -> property:
    def read(call: WatchedCall) -> Any:
        call.read.add(name)
        return call.__dict__["~" + name]

    def written(call: WatchedCall, value: Any) -> None:
        call.__dict__["~" + name] = value

    return property(read, written)


for _part in WATCHED_PARTS:
    setattr(WatchedCall, _part, _watched(_part))


Hook = Callable[[HookCall], Any]


def hook_call(
    route: HookCall | None,
    item: dict[str, Any] | None,
    moment: datetime,
    seeded: Random | Callable[[], Random],
    since: datetime | None,
    body: Any,
    query: Mapping[str, list[str]],
    path: Mapping[str, str],
    items_of: Callable[[str], list[dict[str, Any]]],
    made: type[HookCall] = HookCall,
) -> HookCall:
    """What a model file's hook gets from the engine: the item, the time, its own random and the request, and
    the rest of the route's call (store, policy, headers, example) when it runs in one; `made` a WatchedCall to
    learn what the hook reads."""
    if route is None:
        return made(item, moment, seeded, since, body, query, path, items_of)
    return made(
        item,
        moment,
        seeded,
        since,
        body,
        query,
        path,
        items_of,
        route.store,
        route.policy,
        route.headers,
        route.data,
        route.content_type,
        route.base_url,
        route.status,
        route.example,
        route.example_type,
    )


def answer_of(value: Any, call: HookCall) -> Answer:
    """A route's answer for what its hook returned (see the module's docstring)."""
    if isinstance(value, Answer):
        return value
    if value is None:  # a removal, or a hook that only acts: the contract's example says what success looks like
        example = call.example()
        return Answer(call.status, example) if example is not None else Answer(call.status, data=b"")
    if isinstance(value, str):  # a log, a terminal's output
        text_type = call.example_type or "text/plain; charset=utf-8"
        return Answer(call.status, data=value.encode(), headers={"Content-Type": text_type})
    if isinstance(value, bytes):
        return Answer(call.status, data=value, headers={"Content-Type": "application/octet-stream"})
    return Answer(call.status, value)


def load_hook(reference: str, folder: Path | None = None) -> Hook:
    """The callable `module:function` names, its module looked for in `folder` first (None: importable only)."""
    module_name, _, function_name = reference.partition(":")
    if not module_name or not function_name:
        raise HookError(f"hook {reference!r} must be written module:function")
    try:
        module = _module(module_name, folder)
    except Exception as error:  # the user's module may fail in any way while it is imported
        raise HookError(f"hook {reference!r}: module {module_name!r} cannot be imported: {error}") from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise HookError(f"hook {reference!r}: module {module_name!r} has no callable {function_name!r}")
    return cast(Hook, function)


def _module(name: str, folder: Path | None) -> Any:
    beside = None if folder is None else folder / (name.replace(".", "/") + ".py")
    if beside is None or not beside.is_file():
        return importlib.import_module(name)
    # Keyed by its file, so two examples' `hooks.py` stay two modules.
    key = f"pactmock_hooks_{abs(hash(str(beside.resolve())))}_{name.replace('.', '_')}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, beside)
    if spec is None or spec.loader is None:
        raise ImportError(f"{beside} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module
