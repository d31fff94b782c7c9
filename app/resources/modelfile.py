"""Reading a model file (`<pact name>.model.yaml` beside a pact) into a ResourceModel, checked throughout.

docs/resources.md describes the format. Every problem is a ModelFileError that names the file, the line
and the fix, so a server given a wrong model file refuses to start and says where to look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .model import Auth, Collection, ResourceModel
from .modelfile_actions import read_actions
from .modelfile_collections import read_collections
from .modelfile_nodes import (
    Fields,
    NodeProblem,
    boolean,
    fail,
    integer,
    number,
    plain,
    quoted,
    sequence,
    suggestion,
    text,
    text_list,
)

MODEL_SUFFIX = ".model.yaml"
TOP_KEYS = (
    "version",
    "provider",
    "seed",
    "clock",
    "auth",
    "collections",
    "actions",
    "fixtures",
    "scenarios",
    "start",
    "states",
)
FORMAT_VERSION = 1
# The longest step a model file's clock may move by: past a day, "now" is no longer today.
LONGEST_STEP = 86_400
# Strategies that hand out ids themselves; with any other, a fixture item must carry its id.
GENERATED_IDS = ("counter", "uuid", "prefixed")

Fixtures = dict[str, dict[str, tuple[dict[str, Any], ...]]]


class ModelFileError(ValueError):
    """A model file that cannot be served: `<file>:<line>: <what is wrong>; <the fix>`."""

    def __init__(self, file: Path | str, line: int, problem: str, fix: str) -> None:
        super().__init__(f"{file}:{line}: {problem}; {fix}")
        self.file = str(file)
        self.line = line
        self.problem = problem
        self.fix = fix


def model_file_for(pact_path: Path) -> Path:
    """Where the model file of a pact would be: `<stem>.model.yaml` beside it."""
    return pact_path.with_name(pact_path.stem + MODEL_SUFFIX)


def find_model_files(pact_dir: Path) -> dict[Path, Path]:
    """Each pact below `pact_dir` that has a model file, with it; a model file without its pact is an error."""
    found: dict[Path, Path] = {}
    for model_path in sorted(pact_dir.rglob("*" + MODEL_SUFFIX)):
        pact_path = model_path.with_name(model_path.name[: -len(MODEL_SUFFIX)] + ".json")
        if not pact_path.is_file():
            pacts = [pact.stem + MODEL_SUFFIX for pact in sorted(model_path.parent.glob("*.json"))]
            hint = suggestion(model_path.name, pacts, "model file names")
            raise ModelFileError(
                model_path,
                1,
                f"there is no pact {pact_path.name} beside this model file",
                f"name it after its pact; {hint}",
            )
        found[pact_path] = model_path
    return found


def read_model_file(path: Path, default_provider: str) -> ResourceModel:
    """The model a file declares; its provider defaults to the one of the pact beside it."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        # The context ("while parsing a flow sequence") often starts where the mistake is, before the problem.
        context = f"{exc.context} (line {exc.context_mark.line + 1}), " if exc.context and exc.context_mark else ""
        raise ModelFileError(
            path,
            line,
            f"this is not valid YAML: {context}{exc.problem}",
            "check the indentation and quoting here",
        ) from exc
    except yaml.YAMLError as exc:
        raise ModelFileError(path, 1, f"this is not valid YAML: {exc}", "write one YAML document") from exc
    if root is None:
        raise ModelFileError(path, 1, "the model file is empty", "start it with `version: 1`")
    try:
        return _model(root, default_provider, path)
    except NodeProblem as problem:
        raise ModelFileError(path, problem.line, problem.problem, problem.fix) from None


def _model(root: yaml.Node, default_provider: str, path: Path) -> ResourceModel:
    fields = Fields(root, "the model file", TOP_KEYS)
    version = fields.get("version")
    if version is None:
        fail(root, 'the model file has no "version"', f"add `version: {FORMAT_VERSION}` (the format it is written in)")
    if integer(version, "version", 0) != FORMAT_VERSION:
        fail(
            version,
            f"version {version.value} is not a format this pactmock reads",
            f"write `version: {FORMAT_VERSION}`",
        )
    provider = default_provider
    if (node := fields.get("provider")) is not None:
        provider = text(node, "provider")
    seed = 0 if (node := fields.get("seed")) is None else integer(node, "seed", 0)
    # Hooks are looked for beside the model file first.
    folder = path.parent
    collections = read_collections(fields.values["collections"], folder) if "collections" in fields else {}
    fixtures = _fixtures(fields.get("fixtures"), collections)
    scenarios = _scenarios(fields.get("scenarios"), fixtures)
    loadable = set(fixtures) | set(scenarios)
    actions = read_actions(fields.values["actions"], collections, loadable, folder) if "actions" in fields else ()
    start = _names(fields.values["start"], "start", loadable) if "start" in fields else ()
    return ResourceModel(
        provider=provider,
        collections=collections,
        actions=actions,
        fixtures=fixtures,
        scenarios=scenarios,
        start=start,
        states=_provider_states(fields.get("states"), loadable),
        auth=_auth(fields.get("auth")),
        seed=seed,
        clock_step=_clock_step(fields.get("clock")),
        source=str(path),
    )


def _clock_step(node: yaml.Node | None) -> float | None:
    """{step: seconds}: the provider's time moves in steps of that many seconds (more than 0, at most a day)."""
    if node is None:
        return None
    fields = Fields(node, "clock", ("step",))
    step_node = fields.get("step")
    if step_node is None:
        fail(node, '"clock" has no "step"', "write `clock: {step: 1}` for a time that moves a second at once")
    step = number(step_node, "clock.step", 0, above=True)
    if step > LONGEST_STEP:
        fail(step_node, f"clock.step {step:g} is more than a day", f"write a step of at most {LONGEST_STEP} seconds")
    return step


def _auth(node: yaml.Node | None) -> Auth | None:
    """One of: {bearer_prefix: "test-"}, {allow: [tokens]}, {any: true}; the contract's own rule when absent."""
    if node is None:
        return None
    fields = Fields(node, "auth", ("bearer_prefix", "allow", "any"))
    given = [key for key in ("bearer_prefix", "allow", "any") if fields.get(key) is not None]
    if len(given) != 1:
        fail(
            node,
            "auth names who may call in exactly one way",
            'write one of bearer_prefix: "test-", allow: [...], any: true',
        )
    if (value := fields.get("bearer_prefix")) is not None:
        return Auth(bearer_prefix=text(value, "bearer_prefix of auth"))
    if (value := fields.get("allow")) is not None:
        tokens = text_list(value, "allow of auth")
        if not tokens:
            fail(value, "auth allows no token", "list at least one token")
        return Auth(allow=tokens)
    value = fields.get("any")
    assert value is not None
    if not boolean(value, "any of auth"):
        fail(value, "auth any: false admits nobody", "write any: true, or remove auth to keep the contract's rule")
    return Auth(any_token=True)


def _fixtures(node: yaml.Node | None, collections: dict[str, Collection]) -> Fixtures:
    if node is None:
        return {}
    fixtures: Fixtures = {}
    for name, value in Fields(node, "fixtures", None).items():
        fixture: dict[str, tuple[dict[str, Any], ...]] = {}
        for collection_name, items_node in Fields(value, f"fixture {quoted(name)}", None).items():
            if collection_name not in collections:
                fail(
                    items_node,
                    f"fixture {quoted(name)} has items of collection {quoted(collection_name)}, which the file does not declare",
                    suggestion(collection_name, collections, "collections"),
                )
            fixture[collection_name] = _items(items_node, f"fixture {quoted(name)}", collections[collection_name])
        fixtures[name] = fixture
    return fixtures


def _items(node: yaml.Node, where: str, collection: Collection) -> tuple[dict[str, Any], ...]:
    """A fixture's items of one collection: mappings, with ids when the collection does not make them."""
    items: list[dict[str, Any]] = []
    id_field = collection.ids.field
    ids: dict[Any, int] = {}
    for element in sequence(node, f"the {collection.name} of {where}"):
        item = plain(element, f"an item of {collection.name} in {where}")
        if not isinstance(item, dict):
            fail(
                element,
                f"an item of {collection.name} in {where} is not a mapping",
                "write each item as {field: value, ...}",
            )
        if id_field not in item and collection.ids.strategy not in GENERATED_IDS:
            fail(
                element,
                f"an item of {collection.name} in {where} has no {quoted(id_field)}",
                f"give it `{id_field}: ...` ({collection.name} does not generate ids: its strategy is {collection.ids.strategy})",
            )
        if id_field in item:
            if item[id_field] in ids:
                fail(
                    element,
                    f"{id_field} {item[id_field]} is given twice in {where} (first at line {ids[item[id_field]]})",
                    "give each item its own id",
                )
            ids[item[id_field]] = int(element.start_mark.line) + 1
        machine = collection.machine
        if machine is not None and machine.field in item and item[machine.field] not in machine.states:
            fail(
                element,
                f"an item of {collection.name} in {where} has {machine.field} {quoted(str(item[machine.field]))}, which is not a state",
                f"its states are {', '.join(machine.states)}",
            )
        items.append(item)
    return tuple(items)


def _scenarios(node: yaml.Node | None, fixtures: Fixtures) -> dict[str, tuple[str, ...]]:
    if node is None:
        return {}
    scenarios: dict[str, tuple[str, ...]] = {}
    entries = Fields(node, "scenarios", None)
    for name, value in entries.items():
        if name in fixtures:
            fail(entries.keys[name], f"scenario {quoted(name)} has the name of a fixture", "rename one of them")
        scenarios[name] = _names(value, f"scenario {quoted(name)}", set(fixtures), "fixtures")
    return scenarios


def _names(node: yaml.Node, what: str, known: set[str], kind: str = "fixtures and scenarios") -> tuple[str, ...]:
    """A list of fixture (or scenario) names, each one the file declares."""
    names = text_list(node, what)
    for name, element in zip(names, sequence(node, what), strict=True):
        if name not in known:
            fail(
                element,
                f"{what} names {quoted(name)}, which is not one of the file's {kind}",
                suggestion(name, sorted(known), kind),
            )
    return names


def _provider_states(node: yaml.Node | None, loadable: set[str]) -> dict[str, tuple[str, ...]]:
    if node is None:
        return {}
    return {
        name: _names(value, f"provider state {quoted(name)}", loadable)
        for name, value in Fields(node, "states", None).items()
    }
