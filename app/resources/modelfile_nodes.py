"""A model file's YAML nodes read as typed values, each problem raised with the line it is on.

The reader works on PyYAML's composed nodes rather than loaded data so that every key and value keeps
the line it came from: an error can then say where it is and what to write instead.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml.constructor import SafeConstructor

from .hooks import HookError, load_hook

TAG = "tag:yaml.org,2002:"
# The YAML types that are JSON values; a timestamp is kept as the text it was written as.
JSON_SCALARS = {TAG + name for name in ("str", "int", "float", "bool", "null")}


class NodeProblem(Exception):
    """Something wrong at one line of a model file, and how to put it right (the file is added later)."""

    def __init__(self, line: int, problem: str, fix: str) -> None:
        super().__init__(f"{line}: {problem}; {fix}")
        self.line = line
        self.problem = problem
        self.fix = fix


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def fail(node: yaml.Node, problem: str, fix: str) -> NoReturn:
    """Stop reading: `problem` at the node's line, put right by `fix`."""
    raise NodeProblem(line_of(node), problem, fix)


def suggestion(word: str, choices: Iterable[str], what: str = "keys") -> str:
    """`did you mean "x"?` for a close match, else the list of what may be written."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    return f"the {what} allowed here are {', '.join(options)}" if options else f"no {what} are allowed here"


def quoted(name: str) -> str:
    """A name in double quotes, as messages write names."""
    return f'"{name}"'


def written(node: yaml.Node) -> str:
    """The node as the file writes it, for messages."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value) if node.value != "" else "null"
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


class Fields:
    """A mapping node's entries by key; unknown, repeated and missing keys are refused where they are."""

    def __init__(
        self, node: yaml.Node, where: str, allowed: Iterable[str] | None, required: Iterable[str] = ()
    ) -> None:
        if not isinstance(node, yaml.MappingNode):
            fail(
                node,
                f"{where} must be a mapping of keys to values, not {written(node)}",
                "write it as `key: value` lines",
            )
        self.node = node
        self.where = where
        self.keys: dict[str, yaml.Node] = {}
        self.values: dict[str, yaml.Node] = {}
        names = list(allowed) if allowed is not None else None
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key in self.keys:
                fail(
                    key_node,
                    f"key {quoted(key)} is repeated in {where} (first at line {line_of(self.keys[key])})",
                    "keep one of them",
                )
            if names is not None and key not in names:
                fail(key_node, f"unknown key {quoted(key)} in {where}", suggestion(key, names))
            self.keys[key] = key_node
            self.values[key] = value_node
        for key in required:
            if key not in self.values:
                fail(node, f"{where} has no {quoted(key)}", f"add `{key}: ...` to it (it is required)")

    def _key(self, key_node: yaml.Node) -> str:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != TAG + "str":
            fail(key_node, f"key {written(key_node)} in {self.where} is not a name", f'quote it: "{written(key_node)}"')
        return str(key_node.value)

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str) -> yaml.Node | None:
        """The value node of a key, or None when the mapping leaves it out."""
        return self.values.get(key)

    def items(self) -> Iterable[tuple[str, yaml.Node]]:
        """Each key with its value node, in file order."""
        return self.values.items()


def is_null(node: yaml.Node) -> bool:
    """Whether the node is null (`null`, `~` or nothing written)."""
    return isinstance(node, yaml.ScalarNode) and node.tag == TAG + "null"


def scalar(node: yaml.Node, what: str) -> Any:
    """A JSON scalar (text, number, boolean or null) as YAML types it."""
    if not isinstance(node, yaml.ScalarNode):
        fail(node, f"{what} must be a single value, not {written(node)}", "write one text, number or boolean")
    if node.tag == TAG + "timestamp":
        return str(node.value)
    if node.tag not in JSON_SCALARS:
        fail(node, f"{what} {written(node)} is not a JSON value ({node.tag})", "write text, a number or a boolean")
    return SafeConstructor().construct_object(node)


def plain(node: yaml.Node, what: str) -> Any:
    """Any JSON value: scalars as YAML types them, lists, and mappings with text keys written once."""
    if isinstance(node, yaml.SequenceNode):
        return [plain(element, what) for element in node.value]
    if isinstance(node, yaml.MappingNode):
        return {key: plain(value, f"{what}.{key}") for key, value in Fields(node, what, None).items()}
    return scalar(node, what)


def text(node: yaml.Node, what: str) -> str:
    """A non-empty text value; a number or boolean written bare is refused with the quoting that fixes it."""
    if not isinstance(node, yaml.ScalarNode) or is_null(node):
        fail(node, f"{what} must be text, not {written(node)}", "write a name")
    if node.tag != TAG + "str":
        fail(
            node,
            f"{what} must be text, but {node.value} reads as a {node.tag[len(TAG) :]}",
            f'quote it: "{node.value}"',
        )
    if not node.value:
        fail(node, f"{what} is empty", "write a name")
    return str(node.value)


def optional_text(node: yaml.Node, what: str) -> str | None:
    """Text, or None for null."""
    return None if is_null(node) else text(node, what)


def integer(node: yaml.Node, what: str, minimum: int) -> int:
    """A whole number no less than `minimum` (a boolean is not one)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != TAG + "int":
        fail(node, f"{what} must be a whole number, not {written(node)}", f"write a number like {max(minimum, 1)}")
    number = int(SafeConstructor().construct_object(node))
    if number < minimum:
        fail(node, f"{what} is {number}, below {minimum}", f"write a number of at least {minimum}")
    return number


def boolean(node: yaml.Node, what: str) -> bool:
    """true or false."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != TAG + "bool":
        fail(node, f"{what} must be true or false, not {written(node)}", "write true or false")
    return bool(SafeConstructor().construct_object(node))


def sequence(node: yaml.Node, what: str) -> list[yaml.Node]:
    """The elements of a list node."""
    if not isinstance(node, yaml.SequenceNode):
        fail(node, f"{what} must be a list, not {written(node)}", f"write it as a list: [{written(node)}]")
    return list(node.value)


def text_list(node: yaml.Node, what: str) -> tuple[str, ...]:
    """A list of names, each written once."""
    names: list[str] = []
    for element in sequence(node, what):
        name = text(element, f"an entry of {what}")
        if name in names:
            fail(element, f"{quoted(name)} is listed twice in {what}", "keep one of them")
        names.append(name)
    return tuple(names)


def number(node: yaml.Node, what: str, minimum: float | None = None, above: bool = False) -> float:
    """A finite number (whole or not, as YAML types it) no less than `minimum`, or above it when `above`."""
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (TAG + "int", TAG + "float"):
        fail(node, f"{what} must be a number, not {written(node)}", f"write a number like {minimum or 0}")
    value: float = SafeConstructor().construct_object(node)
    if not math.isfinite(value):
        fail(node, f"{what} is {node.value}, which is not a finite number", "write a number")
    if minimum is not None and above and value <= minimum:
        fail(node, f"{what} is {value}; it must be above {minimum}", f"write a number above {minimum}")
    if minimum is not None and value < minimum:
        fail(node, f"{what} is {value}, below {minimum}", f"write a number of at least {minimum}")
    return value


def probability(node: yaml.Node, what: str, zero: bool) -> float:
    """A probability: in [0, 1], or in (0, 1] when `zero` is not allowed."""
    value = number(node, what, 0, above=not zero)
    if value > 1:
        fail(node, f"{what} is {value}, above 1", "write a probability between 0 and 1")
    return value


def number_range(node: yaml.Node, what: str, minimum: float | None = None) -> tuple[float, float]:
    """`[low, high]`: two numbers (each at least `minimum`), the low one first."""
    elements = sequence(node, what)
    if len(elements) != 2:
        fail(node, f"{what} must be [low, high], not {len(elements)} values", "write two numbers: [low, high]")
    low = number(elements[0], f"the low end of {what}", minimum)
    high = number(elements[1], f"the high end of {what}", minimum)
    if low > high:
        fail(node, f"{what} is [{low}, {high}], whose low end is above its high end", f"write [{high}, {low}]")
    return low, high


def hook_reference(node: yaml.Node, what: str, folder: Path) -> str:
    """A `module:function` reference whose callable imports now, so a server never starts with a broken hook."""
    reference = text(node, what)
    module, _, function = reference.partition(":")
    if not module or not function:
        fail(
            node,
            f"{what} {quoted(reference)} is not written module:function",
            'write it as "hooks:slices" (function slices of hooks.py beside the model file)',
        )
    try:
        load_hook(reference, folder)
    except HookError as error:
        fail(
            node,
            f"{what} cannot be loaded: {error}",
            f"put {module}.py beside the model file, or name an importable module, and define {function}(call)",
        )
    return reference
