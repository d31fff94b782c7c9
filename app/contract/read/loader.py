"""Read pact files (one file or a directory of them) into the contract model.

A file that is not a usable pact is reported with the reason and skipped; the
other files still load. Fields this version does not know are ignored with one
warning each, so newer pact writers do not break older mocks.

A file is read for indexing with msgspec (skeleton.py): each interaction's fields that routing
needs are decoded, the rest only checked; a file msgspec cannot read exactly is read as a stream
(jsonstream.py) instead. Neither decodes a file whole. By default every
interaction is compiled (bodies, matchers) while loading, so every problem in a
file is found now: what `pactmock contracts` needs. With ``compile_lazily_from``,
a file with at least that many HTTP interactions is loaded as an index instead
(index.py): what routing needs is read now, the rest on first use.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..match.regexes import regex_problem
from ..model import Contract, Interaction, Message, ProviderState, Request, Response
from ..serve.injection import path_expression_of
from .index import COMPILED_KEPT, CompiledCache, PactIndex, compile_http
from .jsonstream import Element, JsonSyntaxError, NotAnObject
from .normalize import ContractError, path_rule_of, spec_of
from .skeleton import read_pact

log = logging.getLogger(__name__)

HTTP_KIND = "Synchronous/HTTP"
MESSAGE_KINDS = ("Asynchronous/Messages", "Synchronous/Messages")
_KNOWN = {
    "pact": {"consumer", "provider", "interactions", "messages", "metadata"},
    "interaction": {
        "description", "request", "response", "providerState", "provider_state", "providerStates", "type", "key",
        "pending", "comments", "pluginConfiguration", "interactionMarkup", "transport", "_id", "id",
        "contents", "metadata", "matchingRules", "generators",
    },
    "request": {"method", "path", "query", "headers", "body", "matchingRules", "generators"},
    "response": {"status", "headers", "body", "matchingRules", "generators"},
}  # fmt: skip
_KNOWN_INTERACTION, _KNOWN_REQUEST, _KNOWN_RESPONSE = _KNOWN["interaction"], _KNOWN["request"], _KNOWN["response"]


@dataclass(frozen=True)
class LoadProblem:
    """A pact file that was not loaded, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class LoadResult:
    """What loading found: the contracts read, the files refused and why, and warnings (fields ignored, ...)."""

    contracts: list[Contract] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def interactions(self) -> list[Interaction]:
        """Every HTTP interaction of every contract loaded, in load order."""
        return [i for contract in self.contracts for i in contract.interactions]


def load_pacts(
    location: str | Path, *, compile_lazily_from: int | None = None, compiled_kept: int = COMPILED_KEPT
) -> LoadResult:
    """Load a pact file, or every ``*.json`` file below a directory, in name order.

    Files with at least ``compile_lazily_from`` HTTP interactions are loaded as indexes whose
    interactions share one cache of ``compiled_kept`` compiled interactions; without it, every
    interaction is compiled now.
    """
    root = Path(location)
    result = LoadResult()
    if root.is_dir():
        files = sorted(p for p in root.rglob("*.json") if p.is_file())
    elif root.is_file():
        files = [root]
    else:
        result.problems.append(LoadProblem(str(root), "no such file or directory"))
        return result
    cache = CompiledCache(compiled_kept)
    for path in files:
        try:
            contract, warnings = load_pact_file(path, compile_lazily_from, cache)
        except ContractError as exc:
            result.problems.append(LoadProblem(str(path), str(exc)))
            log.error("pact file %s rejected: %s", path, exc)
            continue
        result.contracts.append(contract)
        result.warnings += warnings
    return result


def load_pact_file(
    path: Path, compile_lazily_from: int | None = None, cache: CompiledCache | None = None
) -> tuple[Contract, list[str]]:
    """One pact file as a contract and its warnings, indexed when large (see load_pacts); ContractError if unusable."""
    try:
        with path.open("rb") as file:
            builder = _PactBuilder(str(path), PactIndex(path, file))
            _read_into(builder, file)
    except JsonSyntaxError as exc:
        raise ContractError(f"is not valid JSON: {exc}") from None
    except NotAnObject:
        raise ContractError("the top level is not a JSON object") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"cannot be read ({exc})") from None
    return builder.finish(compile_lazily_from, cache or CompiledCache())


def _read_into(builder: _PactBuilder, file: BinaryIO) -> None:
    # A function of its own so that no item outlives the reading: the last may hold the file's bytes.
    for item in read_pact(file):
        if isinstance(item, Element):
            builder.interaction(item.value, item.offset, item.length)
        else:
            builder.member(item.key, item.value)


def parse_pact(document: Any, source: str) -> tuple[Contract, list[str]]:
    """Build a contract from a decoded pact document, every interaction compiled; ContractError when unusable."""
    if not isinstance(document, dict):
        raise ContractError("the top level is not a JSON object")
    builder = _PactBuilder(source, None)
    for key, value in document.items():
        if key == "interactions" and isinstance(value, list):
            builder.member(key, [])
            for raw in value:
                builder.interaction(raw)
        else:
            builder.member(key, value)
    return builder.finish(None, CompiledCache())


class _PactBuilder:
    """Takes a pact's members as they are read, checks them in the order problems have always been
    reported in, and makes the contract: compiled whole, or as an index.

    Each HTTP interaction is first kept as `Interaction.indexed` (what routing needs); its raw JSON is
    kept too only when there is no file to read it from again (a document decoded in memory).
    """

    def __init__(self, source: str, index: PactIndex | None) -> None:
        self.contract = Contract(consumer="", provider="", spec="V2", source=source)
        self.index = index
        self.head: dict[str, Any] = {}
        self.indexed: list[Interaction] = []
        self.raws: list[dict[str, Any]] = []
        self.messages: list[Message] = []
        self.warnings = _Warnings(source)
        # The first interaction that cannot even be indexed; the file is rejected for it.
        self.problem: ContractError | None = None
        self.count = 0

    def member(self, key: str, value: Any) -> None:
        self.head[key] = value

    def interaction(self, raw: Any, offset: int = 0, length: int = 0) -> None:
        position = self.count
        self.count += 1
        if self.index is not None:
            self.index.add(offset, length)
        if self.problem is not None:
            return  # the file is rejected anyway; reading on only looks for its names
        try:
            self._add(raw, position)
        except ContractError as exc:
            self.problem = exc

    def _add(self, raw: Any, position: int) -> None:
        # Runs once per interaction of files of any size: the usual case is kept to a few lookups.
        if not isinstance(raw, dict):
            raise ContractError(f"interaction {position} is not a JSON object")
        description = raw.get("description")
        if not isinstance(description, str) or not description:
            raise ContractError(f"interaction {position} has no description")
        if not raw.keys() <= _KNOWN_INTERACTION:
            self.warnings.unknown(raw, "interaction", _where(position, description))
        kind = str(raw.get("type", HTTP_KIND))
        if kind != HTTP_KIND or ("contents" in raw and "request" not in raw):
            self._add_message(raw, kind, description, position)
            return
        request = raw.get("request")
        if not isinstance(request, dict):
            raise ContractError(f"{_where(position, description)} has no request")
        if not request.keys() <= _KNOWN_REQUEST:
            self.warnings.unknown(request, "request", f"{_where(position, description)} request")
        response = raw.get("response")
        if not isinstance(response, dict):
            raise ContractError(f"{_where(position, description)} has no response")
        if not response.keys() <= _KNOWN_RESPONSE:
            self.warnings.unknown(response, "response", f"{_where(position, description)} response")
        route = (
            sys.intern(str(request.get("method", "GET")).upper()),
            str(request.get("path", "/")),
            path_rule_of(request.get("matchingRules")),
        )
        pending = bool(raw.get("pending", False))
        path_expression = path_expression_of(request.get("generators"))
        self.indexed.append(
            Interaction.indexed(
                description, route, _states(raw), pending, self.contract, self.index, position, path_expression
            )
        )
        if self.index is None:
            self.raws.append(raw)

    def _add_message(self, raw: dict[str, Any], kind: str, description: str, position: int) -> None:
        if kind in MESSAGE_KINDS or kind == HTTP_KIND:
            self.messages.append(
                Message(description, kind if kind in MESSAGE_KINDS else MESSAGE_KINDS[0], _states(raw))
            )
            return
        where = _where(position, description)
        self.warnings.add(f"{where} has type {kind!r}, which this mock does not serve; it is listed only")
        self.messages.append(Message(description, kind, _states(raw)))

    def finish(self, compile_lazily_from: int | None, cache: CompiledCache) -> tuple[Contract, list[str]]:
        head = self.head
        warnings = _Warnings(self.contract.source)
        warnings.unknown(head, "pact", "")
        warnings.messages += self.warnings.messages
        repeats = self._repeats(warnings) if self.problem is None else set()
        for message in warnings.messages:
            log.warning("%s", message)
        contract = self.contract
        contract.consumer = _party_name(head, "consumer")
        contract.provider = _party_name(head, "provider")
        contract.spec = spec_of(_declared_version(head.get("metadata")))
        raw_interactions = head.get("interactions")
        raw_messages = head.get("messages")
        if raw_interactions is None and raw_messages is None:
            raise ContractError("has no 'interactions' array")
        if raw_interactions is not None and not isinstance(raw_interactions, list):
            raise ContractError("'interactions' is not an array")
        index = self.index
        lazy = index is not None and compile_lazily_from is not None and len(self.indexed) >= compile_lazily_from
        if lazy and self.problem is not None:
            raise self.problem
        if index is not None and lazy:
            index.spec = contract.spec
            index.cache = cache
            contract.interactions = [i for number, i in enumerate(self.indexed) if number not in repeats]
        else:
            # Interactions before the first unindexable one are compiled first: the first problem in
            # the file is the one reported, whichever kind it is.
            contract.interactions = [
                self._compiled(number, indexed) for number, indexed in enumerate(self.indexed) if number not in repeats
            ]
            for interaction in contract.interactions:
                for problem in refused_regexes(interaction.request, interaction.response):
                    message = (
                        f"{contract.source}: {_where(interaction.position or 0, interaction.description)}: {problem}"
                    )
                    log.warning("%s; requests to it are refused with that reason", message)
                    warnings.messages.append(message)
            if index is not None:
                index.close()
        if self.problem is not None:
            raise self.problem
        contract.messages = self.messages
        for raw in raw_messages if isinstance(raw_messages, list) else []:
            if isinstance(raw, dict):
                contract.messages.append(
                    Message(str(raw.get("description", "")), "Asynchronous/Messages", _states(raw))
                )
        return contract, warnings.messages

    def _repeats(self, warnings: _Warnings) -> set[int]:
        """Interactions with the description and provider states of an earlier one: an exact repeat is
        dropped (the interaction is served once), one that differs is kept; each group is warned about once."""
        groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for number, interaction in enumerate(self.indexed):
            states = tuple(sorted(s.name for s in interaction.provider_states))
            groups.setdefault((interaction.description, states), []).append(number)
        dropped: set[int] = set()
        for (description, states), numbers in groups.items():
            if len(numbers) == 1:
                continue
            first, *others = numbers
            raws = [self._raw(number) for number in numbers]
            same = [n for n, raw in zip(others, raws[1:]) if raw == raws[0]]
            differing = [n for n in others if n not in same]
            dropped.update(same)
            where = f"{len(numbers)} interactions described {description!r} with the same provider states ({', '.join(states) or 'none'})"
            if not differing:
                warnings.add(f"{where} are identical: served once")
            else:
                warnings.add(
                    f"{where} differ (interactions {', '.join(str(self.indexed[n].position) for n in [first, *differing])}): "
                    "all are kept, and a request goes to the first that matches it"
                )
        return dropped

    def _raw(self, number: int) -> Any:
        if self.index is None:
            return self.raws[number]
        position = self.indexed[number].position
        assert position is not None  # the builder numbers every interaction
        return self.index.raw(position)

    def _compiled(self, number: int, indexed: Interaction) -> Interaction:
        assert indexed.position is not None  # the builder numbers every interaction
        raw = self.raws[number] if self.index is None else self.index.raw(indexed.position)
        request, response = compile_http(raw, self.contract.spec, _where(indexed.position, indexed.description))
        interaction = Interaction(
            indexed.description, request, response, indexed.provider_states, pending=indexed.pending
        )
        interaction.contract = self.contract
        interaction.position = indexed.position
        return interaction


def refused_regexes(request: Request, response: Response) -> list[str]:
    """Why each regex of an interaction's rules and generators that pactmock will not run is refused."""
    patterns = [
        str(matcher.get("regex", ""))
        for part in (request, response)
        for ruleset in part.rules.values()
        for rule in ruleset.values()
        for matcher in rule.matchers
        if matcher["match"] == "regex"
    ]
    patterns += [
        str(definition.get("regex", ""))
        for part in (request, response)
        for entries in part.generators.values()
        for definition in entries.values()
        if definition.get("type") in ("Regex", "MockServerURL")
    ]
    return [problem for pattern in dict.fromkeys(patterns) if (problem := regex_problem(pattern))]


def _where(position: int, description: str) -> str:
    return f"interaction {position} ({description!r})"


def _declared_version(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return None
    for key in ("pactSpecification", "pact-specification"):
        entry = metadata.get(key)
        if isinstance(entry, dict) and entry.get("version"):
            return str(entry["version"])
    version = metadata.get("pactSpecificationVersion")
    return str(version) if version else None


def _party_name(document: dict[str, Any], role: str) -> str:
    party = document.get(role)
    if not isinstance(party, dict) or not isinstance(party.get("name"), str) or not party["name"]:
        raise ContractError(f"has no {role} name")
    return str(party["name"])


def _states(raw: dict[str, Any]) -> list[ProviderState]:
    states = raw.get("providerStates")
    if isinstance(states, list):
        found = []
        for state in states:
            if not isinstance(state, dict) or not state.get("name"):
                continue
            params = state.get("params") or {}
            if not isinstance(params, dict):
                name = state["name"]
                raise ContractError(f"provider state {name!r} has params that are not a JSON object: {params!r:.80}")
            found.append(ProviderState(str(state["name"]), dict(params)))
        return found
    single = raw.get("providerState") or raw.get("provider_state")
    return [ProviderState(str(single))] if single else []


class _Warnings:
    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []
        self._seen: set[str] = set()

    def add(self, message: str) -> None:
        self.messages.append(f"{self.source}: {message}")

    def unknown(self, raw: dict[str, Any], level: str, where: str) -> None:
        known = _KNOWN[level]
        if raw.keys() <= known:
            return  # the usual case, checked without building a set: it runs for every interaction
        for name in raw.keys() - known:
            if f"{level}.{name}" not in self._seen:
                self._seen.add(f"{level}.{name}")
                self.add(f"unknown field {name!r} in {where or 'the pact'} ignored")
