"""Volume and derived values in a model file: `generated:` collections, `page:` styles and field `hooks:`.

A generated collection is N items made on demand (presets or a number up to MAX_GENERATED), with rules for
how some fields are made; `page:` says how the contract pages its lists; `hooks:` names a Python callable per
field, imported as the file is read so that a server never starts with a hook it cannot call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .model import MAX_GENERATED, PAGE_STYLES, PRESETS, Generated, Page
from .modelfile_nodes import (
    TAG,
    Fields,
    fail,
    hook_reference,
    integer,
    number_range,
    quoted,
    scalar,
    sequence,
    suggestion,
    text,
    written,
)

GENERATED_KEYS = ("count", "fields", "parent", "inherit")
FIELD_KINDS = ("enum", "range", "age", "text", "hook")
PAGE_KEYS = ("style", "start", "size", "default", "max")
# The query parameters each style names when the model file does not: (where the page starts, its size).
STYLE_PARAMETERS = {
    "offset": ("offset", "limit"),
    "from": ("from", "size"),
    "page": ("page", "per_page"),
    "cursor": ("cursor", "limit"),
}


def read_generated(node: yaml.Node, where: str, id_field: str, folder: Path) -> Generated:
    """How many items the collection has and how some of their fields are made."""
    what = f"generated of {where}"
    fields = Fields(node, what, GENERATED_KEYS)
    count = PRESETS["DEFAULT"]
    if (value := fields.get("count")) is not None:
        count = _count(value, f"the count of {what}")
    made: dict[str, dict[str, Any]] = {}
    if (value := fields.get("fields")) is not None:
        entries = Fields(value, f"the fields of {what}", None)
        for name, rule in entries.items():
            if name == id_field:
                fail(
                    entries.keys[name],
                    f"{quoted(name)} is the id field of {where}, which its id rule makes",
                    "remove it here, or change the collection's `id:`",
                )
            made[name] = _field(rule, f"generated field {quoted(name)} of {where}", folder)
    parent_node = fields.get("parent")
    parent = text(parent_node, f"the parent of {what}") if parent_node is not None else None
    inherit: dict[str, str] = {}
    if (value := fields.get("inherit")) is not None:
        if parent is None:
            fail(value, f"{what} inherits fields but names no parent", "add `parent: <a generated collection>`")
        entries = Fields(value, f"the inherited fields of {what}", None)
        inherit = {name: text(node, f"inherited field {quoted(name)} of {where}") for name, node in entries.items()}
    return Generated(count=count, fields=made, parent=parent, inherit=inherit)


def _count(node: yaml.Node, what: str) -> int:
    """A number of items, 1 to MAX_GENERATED, or a preset's name."""
    presets = ", ".join(f"{name} ({count:,})" for name, count in PRESETS.items())
    if isinstance(node, yaml.ScalarNode) and node.tag == TAG + "str":
        preset = str(node.value).upper()
        if preset not in PRESETS:
            fail(node, f"{what} is {quoted(node.value)}, which is not a preset", suggestion(preset, PRESETS, "presets"))
        return PRESETS[preset]
    if not isinstance(node, yaml.ScalarNode) or node.tag != TAG + "int":
        fail(node, f"{what} must be a number of items or a preset, not {written(node)}", f"write one of {presets}")
    count = integer(node, what, 1)
    if count > MAX_GENERATED:
        fail(
            node,
            f"{what} is {count:,}, above {MAX_GENERATED:,}",
            f"write at most {MAX_GENERATED}, or a preset: {presets}",
        )
    return count


def _field(node: yaml.Node, what: str, folder: Path) -> dict[str, Any]:
    """One field's rule: exactly one of enum, range, age, text or hook."""
    fields = Fields(node, what, FIELD_KINDS)
    kinds = list(fields.values)
    if len(kinds) != 1:
        at = fields.keys[kinds[1]] if kinds else fields.node
        fail(at, f"{what} has {len(kinds)} ways of being made", f"give it exactly one of {', '.join(FIELD_KINDS)}")
    [(kind, value)] = fields.items()
    if kind == "enum":
        choices = [
            scalar(element, f"a value of the enum of {what}") for element in sequence(value, f"the enum of {what}")
        ]
        if not choices:
            fail(value, f"the enum of {what} is empty", "list the values it takes: [PENDING, RUNNING]")
        return {"enum": choices}
    if kind in ("range", "age"):
        low, high = number_range(value, f"the {kind} of {what}", 0 if kind == "age" else None)
        return {kind: [low, high]}
    if kind == "text":
        return {"text": text(value, f"the text of {what}")}
    return {"hook": hook_reference(value, f"the hook of {what}", folder)}


def read_page(node: yaml.Node, where: str) -> Page:
    """The paging style of the collection's lists, its parameter names and sizes."""
    what = f"page of {where}"
    fields = Fields(node, what, PAGE_KEYS)
    style = Page.style
    if (value := fields.get("style")) is not None:
        style = text(value, f"the style of {what}")
        if style not in PAGE_STYLES:
            fail(
                value,
                f"page style {quoted(style)} of {where} is not one pactmock knows",
                suggestion(style, PAGE_STYLES, "styles"),
            )
    start, size = STYLE_PARAMETERS[style]
    if (value := fields.get("start")) is not None:
        start = text(value, f"the start parameter of {what}")
    if (value := fields.get("size")) is not None:
        size = text(value, f"the size parameter of {what}")
    if start == size:
        fail(
            fields.node,
            f"{what} names {quoted(start)} for both where a page starts and its size",
            "name two parameters",
        )
    largest = Page.largest
    if (value := fields.get("max")) is not None:
        largest = integer(value, f"the max of {what}", 1)
    # Without a default, a max below the usual default is the default too.
    default = min(Page.default, largest)
    if (value := fields.get("default")) is not None:
        default = integer(value, f"the default of {what}", 1)
        if default > largest:
            fail(
                value,
                f"the default of {what} is {default}, above its max {largest}",
                f"write at most {largest}, or raise max",
            )
    return Page(style=style, start=start, size=size, default=default, largest=largest)


def read_hooks(node: yaml.Node, where: str, folder: Path) -> dict[str, str]:
    """field -> "module:function", each importable now."""
    return {
        name: hook_reference(value, f"the hook of field {quoted(name)} in {where}", folder)
        for name, value in Fields(node, f"the hooks of {where}", None).items()
    }
