"""Pages of a list in the contract's own style: which slice a query asks for, and what a page answer says.

Four styles (model.PAGE_STYLES), each with its query parameter names in `Page.start` and `Page.size`:

- offset: `?offset=40&limit=20`, items 40 to 59;
- from: `?from=40&size=20`, the same with Elasticsearch's names;
- page: `?page=3&per_page=20`, page numbers from 1 (items 40 to 59);
- cursor: `?cursor=<token>&limit=20`; the token is opaque to the client: base64url of JSON
  {"o": offset, "s": a digest of the model seed, "c": the collection}, so a token from another seed or
  collection is refused rather than read as some other page.

A page's position is arithmetic on the offset, never a walk, so page 50,000 costs what page 1 does.
A query the style cannot read is an `Invalid` (400) saying what was wrong and what is allowed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from ..domain.errors import Invalid
from .model import MAX_GENERATED, Page

# The furthest offset a query may ask for: the largest generated collection.
MAX_OFFSET = MAX_GENERATED
# Query parameter names that mark a style, in the order a pact's list interaction is read for them.
START_NAMES = {
    "cursor": ("cursor", "page_token", "pageToken", "after"),
    "offset": ("offset", "skip"),
    "from": ("from",),
    "page": ("page",),
}
SIZE_NAMES = ("limit", "size", "per_page", "perPage", "page_size", "pageSize")
# The size parameter a style uses when the pact shows none.
DEFAULT_SIZE = {"cursor": "limit", "offset": "limit", "from": "size", "page": "per_page"}
_WHOLE = re.compile(r"[-+]?[0-9]+")
# Longer numbers are refused before they are read (Python reads a 100,000-digit number slowly).
_MAX_DIGITS = 20


def requested_page(
    page: Page, query: Mapping[str, list[str]], seed: int, collection: str, total: int
) -> tuple[int, int]:
    """(offset, limit) of the page the query asks for. `total` does not bound it: a page past the total is
    an empty page, not an error (the collection may have grown or shrunk since the client's last page)."""
    limit = _number(query, page.size)
    if limit is None:
        limit = page.default
    elif not 1 <= limit <= page.largest:
        raise Invalid(f'"{page.size}" must be from 1 to {page.largest:,}, not {limit}')
    if page.style == "cursor":
        return _cursor_offset(page, query, seed, collection), limit
    start = _number(query, page.start)
    if page.style == "page":
        number = 1 if start is None else start
        if number < 1:
            raise Invalid(f'"{page.start}" is a page number from 1, not {number}')
        offset = (number - 1) * limit
        if offset > MAX_OFFSET:
            raise Invalid(f"page {number} of {limit} starts past item {MAX_OFFSET:,}, the furthest a page may start")
        return offset, limit
    offset = 0 if start is None else start
    if offset < 0:
        raise Invalid(f'"{page.start}" must not be negative, not {offset}')
    if offset > MAX_OFFSET:
        raise Invalid(f'"{page.start}" may be at most {MAX_OFFSET:,}, not {offset:,}')
    return offset, limit


def page_fields(page: Page, offset: int, limit: int, total: int, seed: int, collection: str) -> dict[str, Any]:
    """What a page answer says besides its items: the total and the style's own keys (the cursor style's
    "next" token is None on the last page)."""
    fields: dict[str, Any] = {"total": total}
    if page.style == "cursor":
        fields["next"] = cursor_token(offset + limit, seed, collection) if offset + limit < total else None
        fields[page.size] = limit
    elif page.style == "page":
        fields[page.start] = offset // limit + 1
        fields[page.size] = limit
    else:
        fields[page.start] = offset
        fields[page.size] = limit
    return fields


def infer_page(query_names: set[str]) -> Page | None:
    """The paging style the query parameters of a pact's list interaction show; None when they show none."""
    for style, starts in START_NAMES.items():
        start = next((name for name in starts if name in query_names), None)
        if start is None:
            continue
        size = next((name for name in SIZE_NAMES if name in query_names), DEFAULT_SIZE[style])
        return Page(style=style, start=start, size=size)
    return None


def cursor_token(offset: int, seed: int, collection: str) -> str:
    """The opaque token of the page that starts at `offset`."""
    text = json.dumps({"o": offset, "s": seed_digest(seed), "c": collection}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def seed_digest(seed: int) -> str:
    """A token's mark of the seed that made it: the seed itself stays out of what clients see."""
    return hashlib.blake2b(str(seed).encode(), digest_size=6).hexdigest()


def _cursor_offset(page: Page, query: Mapping[str, list[str]], seed: int, collection: str) -> int:
    values = query.get(page.start)
    if not values or values[0] == "":
        return 0
    token = values[0]
    problem = f'"{page.start}" is not a page token this mock handed out'
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
    except (ValueError, UnicodeError, binascii.Error):
        raise Invalid(f"{problem}: {token[:40]!r} cannot be read") from None
    if not isinstance(decoded, dict) or set(decoded) != {"o", "s", "c"}:
        raise Invalid(f"{problem}: {token[:40]!r} cannot be read")
    if decoded["s"] != seed_digest(seed):
        raise Invalid(f"{problem}: it was made with another seed; start again without it")
    if decoded["c"] != collection:
        raise Invalid(f"{problem}: it pages {str(decoded['c'])[:40]!r}, not {collection!r}")
    offset = decoded["o"]
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise Invalid(f"{problem}: its offset {offset!r} is outside 0 to {MAX_OFFSET:,}")
    return offset


def _number(query: Mapping[str, list[str]], name: str) -> int | None:
    """The query parameter as a whole number; None when absent, Invalid when it is not one (or is empty)."""
    values = query.get(name)
    if not values:
        return None
    text = values[0].strip()
    if not _WHOLE.fullmatch(text):
        raise Invalid(f'"{name}" must be a whole number, not {values[0][:40]!r}')
    if len(text) > _MAX_DIGITS:
        raise Invalid(f'"{name}" must be a whole number of at most {_MAX_DIGITS} digits, not {text[:40]}...')
    return int(text)
