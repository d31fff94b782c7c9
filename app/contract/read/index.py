"""Where each interaction of a pact lies, so it can be compiled when first needed.

A pact of 100,000 interactions compiled whole (every body, every matcher) takes
gigabytes and tens of seconds; the router needs none of that. The loader keeps
an `Interaction.indexed` per interaction (method, path, path rule, provider
states) and this index of byte ranges; the rest is compiled from the file on
first use and kept in a cache of bounded size shared by every pact loaded this
way, so memory stays flat however many distinct interactions a long run asks for.

An interaction that turns out to be broken (a bad matcher, an unreadable body)
is logged at ERROR once and kept as a stand-in whose `problem` names the file,
the interaction and the reason: whoever serves it (the web layer answers 500
problem+json) says so whenever a request is routed to it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import weakref
from array import array
from pathlib import Path
from typing import Any

import msgspec

from ..admission import Doorkeeper
from ..model import CompiledParts, Interaction, Request, Response, Rules
from .normalize import ContractError, normalize_request, normalize_response, normalize_rules

log = logging.getLogger(__name__)

COMPILED_KEPT = 2048
# Compiled interactions held whatever their admission (CompiledCache): the last ones asked for.
RECENT_KEPT = 32
DOOR_WINDOW = 4096


def compile_http(raw: dict[str, Any], spec: str, where: str, text: bytes | None = None) -> tuple[Request, Response]:
    """The request and response of a raw HTTP interaction; ContractError naming ``where`` when unusable.
    ``text``: the interaction as the file writes it, whose matching rules' text finds rules normalised before."""
    request_rules, response_rules = _shared_rules(text, spec) if text is not None else (None, None)
    try:
        return (
            normalize_request(raw["request"], spec, request_rules),
            normalize_response(raw["response"], spec, response_rules),
        )
    except ContractError as exc:
        raise ContractError(f"{where}: {exc}") from None


class _RuleText(msgspec.Struct, frozen=True):
    matchingRules: msgspec.Raw = msgspec.Raw(b"")


class _MessageRuleTexts(msgspec.Struct):
    request: _RuleText = _RuleText()
    response: _RuleText = _RuleText()


_decode_rule_texts = msgspec.json.Decoder(_MessageRuleTexts).decode
# Normalised matching rules by the text they are written in. Interactions of one pact mostly repeat the
# same rules (the same header regex, the same body shape), and normalising them was a third of the time
# an interaction takes to compile; equal text decodes to equal rules, so they are normalised once.
# Rules are never mutated once made. Bounded: past the bound the table starts again.
RULE_TEXTS_KEPT = 4096
_rules_by_text: dict[tuple[bytes, str], Rules] = {}


def _shared_rules(text: bytes, spec: str) -> tuple[Rules | None, Rules | None]:
    """The request's and the response's rules when their text was normalised before (else normalised now and
    kept); None for either when the text cannot be read this way (the caller normalises it as usual)."""
    try:
        texts = _decode_rule_texts(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None, None
    return _rules_of(bytes(texts.request.matchingRules), spec), _rules_of(bytes(texts.response.matchingRules), spec)


def _rules_of(text: bytes, spec: str) -> Rules | None:
    if not text:
        return {}
    found = _rules_by_text.get((text, spec))
    if found is not None:
        return found
    try:
        rules = normalize_rules(json.loads(text), spec)
    except (ContractError, ValueError):
        return None  # normalised again with the rest, which reports why
    if len(_rules_by_text) >= RULE_TEXTS_KEPT:
        _rules_by_text.clear()
    _rules_by_text[(text, spec)] = rules
    return rules


def decoded(text: bytes) -> Any:
    """JSON text decoded as `json.loads` decodes it. msgspec decodes it in a third of the time, and where it
    succeeds it gives the same values; the text it refuses (NaN, a lone surrogate, a number out of a float's range)
    json reads as it always did. Under random paths over 100,000 interactions, decoding an interaction on a miss
    was about a seventh of a request's time (bench/RESULTS.md)."""
    try:
        return _decode_json(text)
    except msgspec.DecodeError:
        return json.loads(text)


_decode_json = msgspec.json.Decoder().decode


def describe(interaction: Interaction) -> str:
    """How messages name an interaction: its position in the file and its description."""
    return f"interaction {interaction.position} ({interaction.description!r})"


class CompiledCache:
    """The most recently used compiled interactions of every pact loaded as an index.

    An interaction is kept from its second use that is not a recent one's (admission.py): requests spread over
    100,000 interactions would otherwise replace a kept one with every request, and every compiled interaction
    kept is a few dozen objects the cyclic collector walks. The last few compiled are held whatever happens,
    so that one request asks for its interaction's request and response without compiling it twice.
    """

    def __init__(self, kept: int = COMPILED_KEPT) -> None:
        self.kept = kept
        # functools' cache is written in C and safe across threads: a hit costs well under a microsecond.
        self.lookup = functools.lru_cache(maxsize=kept)(_compile)
        # Remembers as many turned away as the answers' doorkeepers do (web/front.py), however few are kept.
        self.door = Doorkeeper(max(kept, DOOR_WINDOW))
        self._recent: dict[Interaction, CompiledParts] = {}
        self._lock = threading.Lock()

    def get(self, index: PactIndex, interaction: Interaction) -> CompiledParts:
        """The interaction compiled: kept, held as a recent one, or compiled now (and kept if it was asked before)."""
        recent = self._recent.get(interaction)
        if recent is not None:
            return recent
        if self.door.admit(interaction):
            return self.lookup(index, interaction)
        parts = index.compile_now(interaction)
        with self._lock:
            if len(self._recent) >= RECENT_KEPT:
                del self._recent[next(iter(self._recent))]
            self._recent[interaction] = parts
        return parts


def _compile(index: PactIndex, interaction: Interaction) -> CompiledParts:
    return index.compile_now(interaction)


class PactIndex:
    """The byte range of every interaction of one pact file, and the file kept open to read them."""

    def __init__(self, path: Path, file: Any) -> None:
        self.source = str(path)
        self.spec = "V2"  # known once the whole file is read (metadata may come last)
        self.cache: CompiledCache | None = None
        self._fd = os.dup(file.fileno())
        # Kept open rather than opened by name: a pact replaced (renamed over) while the mock runs is
        # still read as it was loaded. Closed when the index goes.
        self.close = weakref.finalize(self, os.close, self._fd)
        self._offsets = array("Q")
        self._lengths = array("Q")
        self._broken: dict[int, CompiledParts] = {}
        self._lock = threading.Lock()

    def add(self, offset: int, length: int) -> int:
        """Record the next interaction's byte range; its position."""
        self._offsets.append(offset)
        self._lengths.append(length)
        return len(self._offsets) - 1

    def raw(self, position: int) -> Any:
        """The interaction at ``position`` read again from the file and decoded, as the pact writes it."""
        return decoded(self.text(position))

    def text(self, position: int) -> bytes:
        """The interaction at ``position`` as the file holds it."""
        return os.pread(self._fd, self._lengths[position], self._offsets[position])

    def compiled(self, interaction: Interaction) -> CompiledParts:
        """The interaction compiled, from the cache every indexed pact shares (compiled now on a miss)."""
        assert self.cache is not None  # set by the loader before any interaction is handed out
        return self.cache.get(self, interaction)

    def compile_now(self, interaction: Interaction) -> CompiledParts:
        """Compile on first use; a broken interaction gets a stand-in that answers with the reason."""
        assert interaction.position is not None
        position = interaction.position
        broken = self._broken.get(position)
        if broken is not None:
            return broken
        text = b""
        try:
            text = self.text(position)
            raw = decoded(text)
        except (OSError, ValueError):
            raw = None
        if not isinstance(raw, dict) or raw.get("description") != interaction.description:
            # Written over in place since it was indexed: these bytes are some other text now.
            changed = "the file has changed since the mock loaded it; restart the mock to serve it"
            return self._remember_broken(interaction, f"{describe(interaction)}: {changed}")
        try:
            request, response = compile_http(raw, self.spec, describe(interaction), text)
        except Exception as exc:  # whatever the contract holds, the other interactions go on being served
            reason = str(exc) if isinstance(exc, ContractError) else f"{describe(interaction)}: {exc}"
            return self._remember_broken(interaction, reason)
        return CompiledParts(request, response)

    def _remember_broken(self, interaction: Interaction, reason: str) -> CompiledParts:
        assert interaction.position is not None
        with self._lock:
            known = self._broken.get(interaction.position)
            if known is not None:
                return known
            log.error("pact file %s: cannot serve %s", self.source, reason)
            parts = _stand_in(interaction, f"{self.source}: {reason}")
            self._broken[interaction.position] = parts
            return parts


def _stand_in(interaction: Interaction, reason: str) -> CompiledParts:
    rules = {"path": {"": interaction.path_rule}} if interaction.path_rule is not None else {}
    request = Request(method=interaction.method, path=interaction.path, rules=rules)
    return CompiledParts(request, Response(status=500), reason)
