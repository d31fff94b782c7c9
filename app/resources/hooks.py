"""The hook seam: a model file names a Python callable for a value it should not try to express.

A hook is `module:function`. The module is a file beside the model file (`hooks.py` for `hooks:slices`),
else an importable module. It is called with one `HookCall` and returns the value: a field's value when the
item is read, or an action's answer. Its random generator is seeded from the model's seed, the item and the
field or action, so its answers are the same in every worker and after a restart.

    def slices(call: HookCall) -> int:
        # about one processed slice per 10 s per active worker since the execution started running
        ...
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class HookCall:
    """What a hook gets: the item (None for an action on no item), the clock, a seeded random and the request."""

    item: dict[str, Any] | None
    now: datetime
    random: random.Random
    # When the item entered its state (for values that grow with time in a state), if known.
    since: datetime | None = None
    body: Any = None
    query: Mapping[str, list[str]] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)
    # The items of another collection of the provider as a client would read them now (controllers of the
    # executions that are not terminal, say); a generated collection's, up to 200,000.
    items_of: Callable[[str], list[dict[str, Any]]] = field(default=lambda _name: [])


Hook = Callable[[HookCall], Any]


class HookError(ValueError):
    """A hook reference that cannot be imported or is not callable; the message says which and why."""


def load_hook(reference: str, folder: Path) -> Hook:
    """The callable `module:function` names, its module looked for in `folder` first."""
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
    return function


def _module(name: str, folder: Path) -> Any:
    beside = folder / (name.replace(".", "/") + ".py")
    if not beside.is_file():
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
