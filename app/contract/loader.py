"""Read pact files (one file or a directory of them) into the contract model.

A file that is not a usable pact is reported with the reason and skipped; the
other files still load. Fields this version does not know are ignored with one
warning each, so newer pact writers do not break older mocks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Contract, Interaction, Message, ProviderState
from .normalize import ContractError, normalize_request, normalize_response, spec_of

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


@dataclass(frozen=True)
class LoadProblem:
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class LoadResult:
    contracts: list[Contract] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def interactions(self) -> list[Interaction]:
        return [i for contract in self.contracts for i in contract.interactions]


def load_pacts(location: str | Path) -> LoadResult:
    """Load a pact file, or every ``*.json`` file below a directory, in name order."""
    root = Path(location)
    result = LoadResult()
    if root.is_dir():
        files = sorted(p for p in root.rglob("*.json") if p.is_file())
    elif root.is_file():
        files = [root]
    else:
        result.problems.append(LoadProblem(str(root), "no such file or directory"))
        return result
    for path in files:
        try:
            contract, warnings = load_pact_file(path)
        except ContractError as exc:
            result.problems.append(LoadProblem(str(path), str(exc)))
            log.error("pact file %s rejected: %s", path, exc)
            continue
        result.contracts.append(contract)
        result.warnings += warnings
    return result


def load_pact_file(path: Path) -> tuple[Contract, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"cannot be read ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return parse_pact(document, str(path))


def parse_pact(document: Any, source: str) -> tuple[Contract, list[str]]:
    """Build a contract from a decoded pact document; raises ContractError when unusable."""
    if not isinstance(document, dict):
        raise ContractError("the top level is not a JSON object")
    warnings = _Warnings(source)
    warnings.unknown(document, "pact", "")
    spec = spec_of(_declared_version(document.get("metadata")))
    contract = Contract(
        consumer=_party_name(document, "consumer"),
        provider=_party_name(document, "provider"),
        spec=spec,
        source=source,
    )
    raw_interactions = document.get("interactions")
    raw_messages = document.get("messages")
    if raw_interactions is None and raw_messages is None:
        raise ContractError("has no 'interactions' array")
    if raw_interactions is not None and not isinstance(raw_interactions, list):
        raise ContractError("'interactions' is not an array")
    for position, raw in enumerate(raw_interactions or []):
        _add_interaction(contract, raw, position, warnings)
    for raw in raw_messages if isinstance(raw_messages, list) else []:
        if isinstance(raw, dict):
            contract.messages.append(Message(str(raw.get("description", "")), "Asynchronous/Messages", _states(raw)))
    _reject_duplicates(contract)
    return contract, warnings.messages


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


def _add_interaction(contract: Contract, raw: Any, position: int, warnings: _Warnings) -> None:
    where = f"interaction {position}"
    if not isinstance(raw, dict):
        raise ContractError(f"{where} is not a JSON object")
    description = raw.get("description")
    if not isinstance(description, str) or not description:
        raise ContractError(f"{where} has no description")
    where = f"interaction {position} ({description!r})"
    kind = str(raw.get("type", HTTP_KIND))
    warnings.unknown(raw, "interaction", where)
    if kind in MESSAGE_KINDS or (kind == HTTP_KIND and "contents" in raw and "request" not in raw):
        contract.messages.append(
            Message(description, kind if kind in MESSAGE_KINDS else MESSAGE_KINDS[0], _states(raw))
        )
        return
    if kind != HTTP_KIND:
        warnings.add(f"{where} has type {kind!r}, which this mock does not serve; it is listed only")
        contract.messages.append(Message(description, kind, _states(raw)))
        return
    for part in ("request", "response"):
        if not isinstance(raw.get(part), dict):
            raise ContractError(f"{where} has no {part}")
        warnings.unknown(raw[part], part, f"{where} {part}")
    try:
        request = normalize_request(raw["request"], contract.spec)
        response = normalize_response(raw["response"], contract.spec)
    except ContractError as exc:
        raise ContractError(f"{where}: {exc}") from None
    interaction = Interaction(
        description=description,
        request=request,
        response=response,
        provider_states=_states(raw),
        pending=bool(raw.get("pending", False)),
        contract=contract,
    )
    contract.interactions.append(interaction)


def _states(raw: dict[str, Any]) -> list[ProviderState]:
    states = raw.get("providerStates")
    if isinstance(states, list):
        return [
            ProviderState(str(s.get("name", "")), dict(s.get("params") or {}))
            for s in states
            if isinstance(s, dict) and s.get("name")
        ]
    single = raw.get("providerState") or raw.get("provider_state")
    return [ProviderState(str(single))] if single else []


def _reject_duplicates(contract: Contract) -> None:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for interaction in contract.interactions:
        key = (interaction.description, tuple(sorted(interaction.state_names)))
        if key in seen:
            states = ", ".join(key[1]) or "no provider state"
            raise ContractError(f"has two interactions described {key[0]!r} with the same provider states ({states})")
        seen.add(key)


class _Warnings:
    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []
        self._seen: set[str] = set()

    def add(self, message: str) -> None:
        text = f"{self.source}: {message}"
        self.messages.append(text)
        log.warning("%s", text)

    def unknown(self, raw: dict[str, Any], level: str, where: str) -> None:
        for name in raw.keys() - _KNOWN[level]:
            if f"{level}.{name}" not in self._seen:
                self._seen.add(f"{level}.{name}")
                self.add(f"unknown field {name!r} in {where or 'the pact'} ignored")
