"""Request paths are URI paths: `/pacticipants/Pricing%20Service` and `/pacticipants/Pricing Service` are one path.

A pact writes a path as its consumer test saw it, encoded (`%20`) or not (` `); the verifier sends
either on the wire encoded; the server hands the application the decoded text. Paths are therefore
compared decoded (`same_path`). A path rule's regex may have been written against either form, so
it is tried on the path as given and on its decoded text (`path_forms`), and a regex that spells
escapes out (`^/users/a%40b/[0-9]+`) is also tried decoded (`decoded_regex`) on the decoded text. One
consequence: `%2F` and `/` cannot be told apart, because the server has decoded the path before
pactmock sees it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

# What a path carries unencoded (RFC 3986 pchar and "/"); everything else is written as %XX.
_SAFE = "/:@!$&'()*+,;=-._~"
_NEEDS_ENCODING = re.compile(r"[^A-Za-z0-9/:@!$&'()*+,;=\-._~]")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")


def wire_path(decoded: str) -> str:
    """The path as a client puts it on the wire (%XX for what a URI cannot carry; "%" itself too)."""
    if _NEEDS_ENCODING.search(decoded) is None:
        return decoded  # the usual path: nothing to encode, no copy made
    return quote(decoded, safe=_SAFE)


def decoded_path(path: str) -> str:
    """The text a path stands for: every %XX decoded (UTF-8; invalid bytes become U+FFFD)."""
    return unquote(path, errors="replace") if "%" in path else path


def same_path(expected: str, actual: str) -> bool:
    """Whether two paths are one URI path: equal as written, or once decoded."""
    return expected == actual or decoded_path(expected) == decoded_path(actual)


def path_forms(path: str) -> tuple[str, ...]:
    """The path as given and, when different, its decoded text: what a path regex is tried on."""
    decoded = decoded_path(path)
    return (path,) if decoded == path else (path, decoded)


def decoded_regex(pattern: str) -> str | None:
    """The regex with its percent-escapes written as the characters they stand for (`a%40b` -> `a@b`,
    `%2B` -> `\\+`), to be tried on a decoded path; None when it spells out none."""
    if "%" not in pattern:
        return None
    decoded = _ESCAPES.sub(lambda run: _literal(unquote(run.group(), errors="replace")), pattern)
    return None if decoded == pattern else decoded


def _literal(text: str) -> str:
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in text)
