"""Faults kept where every worker and server sees them, cached per process, and applied to answers (issue 18 item 6).

The rule set lives in the `mock_settings` table (so POST /_mock/reset, which empties it, clears the faults), with
a version that changes on every change. Each process keeps the rule set it read and the version it read it at;
it reads the table again only when told something changed: a stamp file beside the other workers on this host
(a `stat` per request, about a microsecond), and on PostgreSQL a LISTEN connection for other hosts. The control
plane announces every successful change it makes (control_faults.py), reset and import included.

A rule that rolls dice counts the requests it matched in the database (one short write per such request), so the
n-th matching request gets the same draw whichever worker or server answers it (fault_rules.draw).
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import socket
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..domain.errors import Conflict, DomainError, StoreUnavailable
from ..domain.sessions import current_session
from .change_signal import ChangeSignal
from .change_signal import signal_for as signal_for  # where entrance and control_faults find it
from .fault_rules import BadRules, Plan, Rule, RuleSet, dotted, parse_rule, parse_rule_set, plan_for

if TYPE_CHECKING:
    from ..domain.ports import Store
    from ..settings import Settings

log = logging.getLogger(__name__)

SETTING = "faults"  # the rule set
COUNTS = "faults.counts"  # how many requests each rule that rolls dice has matched
LOCK = "faults.lock"  # written first by every change, so changes to the two above queue (PostgreSQL)
FROM_FILE = "faults.file"  # which server last installed PACTMOCK_FAULTS_FILE
# Sessions whose rule sets one process keeps at once; past it the cache starts again.
MAX_SESSIONS_KEPT = 1_000


class FaultsFileError(ValueError):
    """PACTMOCK_FAULTS_FILE cannot be used: `<file>:<line>: <what is wrong>`."""


def rules_from(stored: dict[str, Any] | None) -> RuleSet:
    """The rule set as stored (checked again: a stored set is one this code wrote)."""
    if not stored:
        return RuleSet()
    rules = tuple(parse_rule(raw, int(raw["id"])) for raw in stored.get("rules", []))
    return RuleSet(str(stored.get("version", "")), int(stored.get("seed", 0)), int(stored.get("next_id", 1)), rules)


def checked(raw_rules: list[Any], first_id: int) -> tuple[Rule, ...]:
    """Rules given by a client, numbered from `first_id`; BadRules says where one is wrong."""
    return tuple(parse_rule(raw, first_id + n, ("rules", n)) for n, raw in enumerate(raw_rules))


class FaultStore:
    """Reads and changes the rule set and the draw counts in the store; every change gets a new version."""

    def __init__(self, store: Store, default_seed: int | None) -> None:
        self.store = store
        self.default_seed = default_seed

    def read(self) -> RuleSet:
        """The rule set now."""
        with self.store.reading() as uow:
            return rules_from(uow.settings.get(SETTING))

    def replace(self, raw: Any) -> RuleSet:
        """PUT: the rules given replace all (their counts start again)."""
        seed, raw_rules = parse_rule_set(raw)
        rules = checked(raw_rules, 1)
        return self._write(lambda current: (self._seed(seed), 1 + len(rules), rules), fresh_counts=True)

    def add(self, raw: Any) -> Rule:
        """POST: one rule more, with the next id."""
        added: list[Rule] = []

        def change(current: RuleSet) -> tuple[int, int, tuple[Rule, ...]]:
            added[:] = [parse_rule(raw, current.next_id)]
            seed = current.seed if current.version else self._seed(None)
            return seed, current.next_id + 1, (*current.rules, added[0])

        self._write(change)
        return added[0]

    def remove(self, rule_id: int) -> bool:
        """DELETE one rule: whether it was there."""
        found: list[bool] = []

        def change(current: RuleSet) -> tuple[int, int, tuple[Rule, ...]]:
            kept = tuple(r for r in current.rules if r.id != rule_id)
            found.append(len(kept) < len(current.rules))
            return current.seed, current.next_id, kept

        self._write(change)
        return found[0]

    def clear(self) -> RuleSet:
        """DELETE all: no faults."""
        return self._write(lambda current: (current.seed, 1, ()), fresh_counts=True)

    def install_file(self, path: str, server: str) -> None:
        """PACTMOCK_FAULTS_FILE's rules replace the set once per server start (a respawned worker does not)."""
        raw = load_file(path)
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
        mark = {"server": server, "digest": digest}
        with self.store.writing() as uow:
            uow.settings.put(LOCK, {"by": uuid.uuid4().hex})
            if uow.settings.get(FROM_FILE) == mark:
                return
            seed, raw_rules = parse_rule_set(raw)
            rules = checked(raw_rules, 1)
            stored = RuleSet(uuid.uuid4().hex, self._seed(seed), 1 + len(rules), rules)
            uow.settings.put(SETTING, {**stored.as_json(), "next_id": stored.next_id})
            uow.settings.put(COUNTS, {})
            uow.settings.put(FROM_FILE, mark)

    def take_counts(self, rule_ids: list[int]) -> dict[int, int]:
        """Each rule's count before this request, counted up by one: the request's place in each rule's draws."""
        for attempt in range(5):
            try:
                with self.store.writing() as uow:
                    # The lock row first: on PostgreSQL its UPDATE makes a concurrent taker wait for this
                    # commit, so the counts read next are the latest and no two requests share a draw.
                    uow.settings.put(LOCK, {"by": uuid.uuid4().hex})
                    counts = uow.settings.get(COUNTS) or {}
                    taken = {rule_id: int(counts.get(str(rule_id), 0)) for rule_id in rule_ids}
                    uow.settings.put(COUNTS, {**counts, **{str(k): v + 1 for k, v in taken.items()}})
                    return taken
            except Conflict:
                time.sleep(0.001 * (attempt + 1))  # two first writers of the lock row: one goes again
        raise StoreUnavailable("the fault counters stayed busy")

    def _seed(self, given: int | None) -> int:
        if given is not None:
            return given
        # Without a seed anywhere one is chosen now and stored, so every worker still draws alike.
        return self.default_seed if self.default_seed is not None else int.from_bytes(os.urandom(6), "big")

    def _write(self, change: Any, *, fresh_counts: bool = False) -> RuleSet:
        with self.store.writing() as uow:
            uow.settings.put(LOCK, {"by": uuid.uuid4().hex})
            seed, next_id, rules = change(rules_from(uow.settings.get(SETTING)))
            stored = RuleSet(uuid.uuid4().hex, seed, next_id, rules)
            uow.settings.put(SETTING, {**stored.as_json(), "next_id": next_id})
            counts = {} if fresh_counts else uow.settings.get(COUNTS) or {}
            uow.settings.put(COUNTS, {k: v for k, v in counts.items() if int(k) in {r.id for r in rules}})
        return stored


def load_file(path: str) -> Any:
    """PACTMOCK_FAULTS_FILE read and checked: FaultsFileError names the file and line of the first problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except OSError as error:
        raise FaultsFileError(f"{path}:1: cannot be read: {error.strerror or error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise FaultsFileError(
            f"{path}:{(mark.line + 1) if mark else 1}: not valid JSON or YAML: {error.problem}"
        ) from None
    except yaml.YAMLError as error:
        raise FaultsFileError(f"{path}:1: not valid JSON or YAML: {error}") from None
    if root is None:
        raise FaultsFileError(f'{path}:1: the file is empty; write {{"rules": [...]}}')
    raw = yaml.safe_load(text)
    try:
        _, raw_rules = parse_rule_set(raw)
        checked(raw_rules, 1)
    except BadRules as bad:
        raise FaultsFileError(
            f"{path}:{_line_of(root, bad.where)}: {dotted(bad.where) or 'the rule set'}: {bad.message}"
        ) from None
    return raw


def _line_of(node: yaml.Node, where: tuple[str | int, ...]) -> int:
    """The line of the deepest node of `where` the file has (a missing key: the line of its parent)."""
    if isinstance(node, yaml.SequenceNode) and where and where[0] == "rules":
        where = where[1:]  # a bare list of rules stands for {"rules": [...]}
    line = node.start_mark.line + 1
    for part in where:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if k.value == part]
            if not found:
                found = [k for k, _ in node.value if k.value == part]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            found = [node.value[part]]
        else:
            found = []
        if not found:
            break
        node = found[0]
        line = node.start_mark.line + 1
    return line


class Faults:
    """One process's view of the faults: the cached rule set, re-read when the signal says it changed."""

    def __init__(self, store: Store, settings: Settings, signal: ChangeSignal) -> None:
        self.keeper = FaultStore(store, settings.generator_seed)
        self.signal = signal
        # Per session (each keeps its own rules): the generation the rule set was read at, and the rule set.
        self.read: dict[str, tuple[Any, RuleSet]] = {}

    def current(self) -> RuleSet:
        """The current session's rule set (a stat of the stamp; the database only after a change was announced)."""
        session = current_session()
        generation = self.signal.generation()
        held = self.read.get(session)
        if held is not None and held[0] == generation:
            return held[1]
        try:
            rules = self.keeper.read()
        except StoreUnavailable:
            log.warning("faults: the rule set could not be read; the last one read still applies")
            return held[1] if held is not None else RuleSet()
        except DomainError:
            return RuleSet()  # the session cannot be made (its limit): the request's own answer says so
        if len(self.read) >= MAX_SESSIONS_KEPT:
            self.read.clear()  # sessions of finished test runs
        self.read[session] = (generation, rules)
        return rules

    def install_file(self, path: str) -> None:
        """PACTMOCK_FAULTS_FILE's rules, once per server start (`serve` checked the file before any worker ran)."""
        parent = multiprocessing.parent_process()
        supervisor = parent.pid if parent is not None and parent.pid is not None else os.getpid()
        self.keeper.install_file(path, f"{socket.gethostname()}:{supervisor}")
        self.signal.announce()

    def plan(self, rules: RuleSet, method: str, path: str, provider: str | None, description: str | None) -> Plan:
        """What the faults do to this request (counting it for each dice-rolling rule it matches)."""
        matched = [r for r in rules.rules if r.matches(method, path, provider, description)]
        if not matched:
            return Plan()
        rolling = [r.id for r in matched if r.draws]
        counts = self.keeper.take_counts(rolling) if rolling else {}
        return plan_for(matched, counts, rules.seed)
