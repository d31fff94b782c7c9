"""The layout's rules (ARCHITECTURE.md, issue 13), checked by reading app/ with ast: nothing is imported.

Dependencies point inward (web -> providers -> domain <- store, web -> contract); the engine and the
domain import no framework; web reaches the store only in its factory; app/ has no import cycle; every
file reads in one sitting; every public name says what it is for.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
ROOT = APP.parent
FRAMEWORKS = ("flask", "werkzeug", "sqlalchemy", "alembic", "psycopg2", "psycopg", "granian", "click", "uvloop")
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to an absolute module name."""

    line: int
    target: str
    # Executed when the module is imported: at module level (not in a function, not under TYPE_CHECKING).
    at_import_time: bool


@dataclass(frozen=True)
class Module:
    """One file of app/, parsed."""

    name: str
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]

    @property
    def where(self) -> str:
        """The file as a message names it."""
        return str(self.path.relative_to(ROOT))


def _load() -> dict[str, Module]:
    modules = {}
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = Module(name, path, ast.parse(path.read_text(), str(path)))
    return modules


MODULES = _load()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(body: list[ast.stmt], at_import_time: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement, nested ones too, with whether it runs when the module is imported."""
    for node in body:
        yield node, at_import_time
        if isinstance(node, ast.If):
            yield from _statements(node.body, at_import_time and not _is_type_checking(node))
            yield from _statements(node.orelse, at_import_time)
        elif isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _statements(block, at_import_time)
        elif isinstance(node, ast.With):
            yield from _statements(node.body, at_import_time)
        elif isinstance(node, ast.ClassDef):
            # A class body runs as its module is imported.
            yield from _statements(node.body, at_import_time)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # A function's imports run when it is called, after every module has been imported.
            yield from _statements(node.body, False)
        elif isinstance(node, ast.For | ast.While | ast.AsyncFor | ast.AsyncWith):
            yield from _statements([*node.body, *getattr(node, "orelse", [])], False)


def imports(module: Module) -> list[Import]:
    """What the module imports, anywhere in it; relative imports resolved, `from p import m` naming m."""
    found = []
    for node, at_import_time in _statements(module.tree.body, True):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name, at_import_time) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.package.split(".")
                anchor = ".".join(package[: len(package) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                # `from . import services` imports a module; `from .model import Job` imports from one.
                submodule = f"{base}.{alias.name}"
                found.append(Import(node.lineno, submodule if submodule in MODULES else base, at_import_time))
    return found


def _names(target: str, prefixes: tuple[str, ...]) -> bool:
    return any(target == prefix or target.startswith(prefix + ".") for prefix in prefixes)


def offending_imports(under: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    """`file:line imports target` for each import of a forbidden name by a module under a package."""
    offences: list[str] = []
    for module in MODULES.values():
        if _names(module.name, (under,)) and module.name not in allowed:
            found = [
                f"{module.where}:{i.line} imports {i.target}" for i in imports(module) if _names(i.target, forbidden)
            ]
            # Once per statement and target, though `from flask import a, b` names flask twice.
            offences += dict.fromkeys(found)
    return offences


def test_the_import_reader_sees_absolute_relative_and_function_level_imports() -> None:
    # Without this, a reader that found nothing would let every rule below pass.
    handlers = {i.target for i in imports(MODULES["app.providers.epistemix.handlers"])}
    assert {"app.domain.services", "app.domain.errors", "app.providers.registry"} <= handlers
    assert any(i.target.startswith("sqlalchemy") for i in imports(MODULES["app.store.unit_of_work"]))
    lazy = [i for i in imports(MODULES["app"]) if i.target == "app.web.factory"]
    assert lazy and not any(i.at_import_time for i in lazy)


def test_the_engine_and_the_domain_import_no_framework_and_no_outer_layer() -> None:
    forbidden = (*FRAMEWORKS, "app.web", "app.store", "app.providers")
    offences = offending_imports("app.contract", forbidden) + offending_imports("app.domain", forbidden)
    assert not offences, "contract/ and domain/ must stand alone:\n" + "\n".join(offences)


def test_generic_resources_import_no_framework_and_no_outer_layer() -> None:
    # The model-file reader needs YAML; nothing else outside the standard library and the engine's ports.
    offences = offending_imports("app.resources", (*FRAMEWORKS, "app.web", "app.store", "app.providers"))
    assert not offences, "resources/ stands with the domain:\n" + "\n".join(offences)


def test_the_openapi_generator_imports_no_framework_and_no_outer_layer() -> None:
    # Like contract/: pure functions over the contract model; the registry it reads is handed to it.
    offences = offending_imports("app.openapi", (*FRAMEWORKS, "app.web", "app.store", "app.providers"))
    assert not offences, "openapi/ stands with the contract model:\n" + "\n".join(offences)


def test_providers_import_no_web_framework_no_sql_and_no_web_or_store() -> None:
    offences = offending_imports("app.providers", ("flask", "werkzeug", "sqlalchemy", "app.web", "app.store"))
    assert not offences, "providers see plain data and the domain's ports only:\n" + "\n".join(offences)


def test_web_reaches_the_store_only_in_its_factory() -> None:
    offences = offending_imports("app.web", ("app.store",), allowed=("app.web.factory",))
    assert not offences, "web/ must use the domain's ports; only factory.py builds the store:\n" + "\n".join(offences)


def test_the_store_imports_neither_web_nor_providers() -> None:
    offences = offending_imports("app.store", ("app.web", "app.providers"))
    assert not offences, "store/ implements the domain's ports and knows nothing above them:\n" + "\n".join(offences)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, round and round (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = lowest[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                lowest[node] = min(lowest[node], lowest[target])
            elif target in stack:
                lowest[node] = min(lowest[node], index[target])
        if lowest[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set(), "c": {"c"}}) == [["c"]]
    assert import_cycles({"a": {"b", "c"}, "b": {"c"}}) == []


def test_app_has_no_import_cycle() -> None:
    # Only imports that run when a module is imported count: a function-level import (app.create_app's
    # lazy one) or one under TYPE_CHECKING cannot make importing a module fail half-way. A module's
    # parent packages are imported first as well; those edges are left out, or every __init__ that
    # imports anything would close a loop with its own submodules.
    graph = {
        module.name: {i.target for i in imports(module) if i.at_import_time and i.target in MODULES}
        for module in MODULES.values()
    }
    cycles = import_cycles(graph)
    described = []
    for group in cycles:
        edges = [
            f"  {MODULES[name].where}:{i.line} imports {i.target}"
            for name in group
            for i in imports(MODULES[name])
            if i.at_import_time and i.target in group
        ]
        described.append(" <-> ".join(group) + "\n" + "\n".join(edges))
    assert not cycles, "import cycles in app/:\n" + "\n".join(described)


def test_every_file_reads_in_one_sitting() -> None:
    lengths = {module.where: len(module.path.read_text().splitlines()) for module in MODULES.values()}
    long_files = [f"{where}: {lines} lines" for where, lines in lengths.items() if lines > MAX_LINES]
    assert not long_files, f"files over {MAX_LINES} lines:\n" + "\n".join(long_files)


def _public(name: str) -> bool:
    return not name.startswith("_")


def _is_overload(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id == "overload") or (isinstance(d, ast.Attribute) and d.attr == "overload")
        for d in node.decorator_list
    )


def _undocumented_in(body: list[ast.stmt], where: str, owner: str) -> Iterator[str]:
    """Public classes, functions and methods without a docstring; nested functions and TYPE_CHECKING are left out."""
    for node in body:
        if isinstance(node, ast.If) and not _is_type_checking(node):
            yield from _undocumented_in([*node.body, *node.orelse], where, owner)
        elif isinstance(node, ast.Try):
            yield from _undocumented_in([*node.body, *node.orelse, *node.finalbody], where, owner)
        elif isinstance(node, ast.ClassDef) and _public(node.name):
            if ast.get_docstring(node) is None:
                yield f"{where}:{node.lineno} class {owner}{node.name}"
            yield from _undocumented_in(node.body, where, f"{owner}{node.name}.")
        elif (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and _public(node.name)
            and ast.get_docstring(node) is None
            and not _is_overload(node)
        ):
            yield f"{where}:{node.lineno} def {owner}{node.name}"


def undocumented(module: Module) -> list[str]:
    """`file:line name` for the module and each public name in it that has no docstring."""
    missing = [] if ast.get_docstring(module.tree) is not None else [f"{module.where}:1 module {module.name}"]
    return missing + list(_undocumented_in(module.tree.body, module.where, ""))


def test_the_docstring_reader_finds_what_is_missing() -> None:
    source = '''
def shown(): pass
def _hidden(): pass
class Shown:
    """Documented."""
    def method(self): pass
    def __eq__(self, other): pass
    def _helper(self): pass
if TYPE_CHECKING:
    def typing_only(): pass
def outer():
    """Documented."""
    def nested(): pass
'''
    module = Module("app.example", APP / "example.py", ast.parse(source))
    assert undocumented(module) == [
        "app/example.py:1 module app.example",
        "app/example.py:2 def shown",
        "app/example.py:6 def Shown.method",
    ]


def _area(module: Module) -> str:
    """app for the files directly in app/, else the subpackage: one test per area, so each names its owner."""
    return "app" if module.path.parent == APP else module.path.relative_to(APP).parts[0]


@pytest.mark.parametrize("area", sorted({_area(module) for module in MODULES.values()}))
def test_every_public_name_has_a_docstring(area: str) -> None:
    missing = [entry for module in MODULES.values() if _area(module) == area for entry in undocumented(module)]
    assert not missing, f"public names in {area} without a docstring:\n" + "\n".join(missing)
