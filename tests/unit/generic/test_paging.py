"""Paging in the contract's own style: the slice a client's query asks for, what the page answer tells it,
the style read off a pact's list interaction, and every query that is refused with a 400 saying why."""

from __future__ import annotations

import base64
import json

import pytest

from app.domain.errors import Invalid
from app.resources.model import Page
from app.resources.paging import cursor_token, infer_page, page_fields, requested_page

OFFSET = Page("offset", "offset", "limit", default=100, largest=10_000)
FROM = Page("from", "from", "size", default=100, largest=10_000)
NUMBERED = Page("page", "page", "per_page", default=20, largest=100)
CURSOR = Page("cursor", "cursor", "limit", default=50, largest=500)
SEED = 7
TOTAL = 1_000_000


def asked(style: Page, /, collection: str = "workflows", seed: int = SEED, **query: str) -> tuple[int, int]:
    """The (offset, limit) a query of these parameters asks for."""
    return requested_page(style, {name: [value] for name, value in query.items()}, seed, collection, TOTAL)


def refused(style: Page, match: str, /, collection: str = "workflows", seed: int = SEED, **query: str) -> None:
    with pytest.raises(Invalid, match=match):
        asked(style, collection, seed, **query)


def test_offset_and_from_styles() -> None:
    assert asked(OFFSET) == (0, 100)
    assert asked(OFFSET, offset="999980", limit="20") == (999_980, 20)
    assert asked(FROM) == (0, 100)
    assert requested_page(FROM, {"from": ["40"], "size": ["20"]}, SEED, "workflows", TOTAL) == (40, 20)
    # The other style's names mean nothing here.
    assert asked(FROM, offset="40", limit="20") == (0, 100)


def test_page_numbers_start_at_one() -> None:
    assert asked(NUMBERED) == (0, 20)
    assert asked(NUMBERED, page="1", per_page="10") == (0, 10)
    assert asked(NUMBERED, page="3", per_page="20") == (40, 20)


def test_a_page_past_the_total_is_an_empty_page_not_an_error() -> None:
    assert asked(OFFSET, offset="10000000", limit="20") == (10_000_000, 20)
    assert asked(NUMBERED, page="100000", per_page="100") == (9_999_900, 100)


def test_a_cursor_walks_the_pages_and_ends_with_none() -> None:
    assert asked(CURSOR) == (0, 50)
    fields = page_fields(CURSOR, 0, 50, 120, SEED, "workflows")
    assert fields["total"] == 120 and fields["limit"] == 50
    second = asked(CURSOR, cursor=fields["next"], limit="50")
    assert second == (50, 50)
    third = asked(CURSOR, cursor=page_fields(CURSOR, 50, 50, 120, SEED, "workflows")["next"], limit="50")
    assert third == (100, 50)
    assert page_fields(CURSOR, 100, 50, 120, SEED, "workflows")["next"] is None
    # The token is opaque: it does not show the seed.
    token = cursor_token(100, SEED, "workflows")
    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert decoded["o"] == 100 and decoded["c"] == "workflows" and str(SEED) != decoded["s"]
    assert asked(CURSOR, cursor="") == (0, 50)  # an empty cursor asks for the first page


def test_page_fields_by_style() -> None:
    assert page_fields(OFFSET, 40, 20, 1_000, SEED, "w") == {"total": 1_000, "offset": 40, "limit": 20}
    assert page_fields(FROM, 40, 20, 1_000, SEED, "w") == {"total": 1_000, "from": 40, "size": 20}
    assert page_fields(NUMBERED, 40, 20, 1_000, SEED, "w") == {"total": 1_000, "page": 3, "per_page": 20}
    assert page_fields(CURSOR, 980, 20, 1_000, SEED, "w") == {"total": 1_000, "next": None, "limit": 20}


@pytest.mark.parametrize("text", ["abc", "1.5", "", "1e3", "0x10", "١٢"])
def test_a_number_that_is_not_whole_is_refused(text: str) -> None:
    refused(OFFSET, '"offset" must be a whole number', offset=text)
    refused(OFFSET, '"limit" must be a whole number', limit=text)
    refused(NUMBERED, '"page" must be a whole number', page=text)


def test_negative_and_far_offsets_are_refused_naming_the_bound() -> None:
    refused(OFFSET, '"offset" must not be negative', offset="-1")
    with pytest.raises(Invalid, match='"from" must not be negative'):
        requested_page(FROM, {"from": ["-20"]}, SEED, "workflows", TOTAL)
    refused(OFFSET, "at most 10,000,000", offset="10000001")
    refused(OFFSET, "at most 20 digits", offset="9" * 30)
    refused(NUMBERED, "page number from 1", page="0")
    refused(NUMBERED, "page number from 1", page="-3")
    refused(NUMBERED, "10,000,000", page="100002", per_page="100")


def test_limits_outside_one_to_the_largest_are_refused() -> None:
    refused(OFFSET, '"limit" must be from 1 to 10,000, not 0', limit="0")
    refused(OFFSET, '"limit" must be from 1 to 10,000, not 10001', limit="10001")
    refused(FROM, '"size" must be from 1 to 10,000', size="-5")
    refused(NUMBERED, '"per_page" must be from 1 to 100', per_page="101")
    refused(CURSOR, '"limit" must be from 1 to 500', limit="501")
    assert asked(OFFSET, limit="10000") == (0, 10_000)


def token_of(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        "abc",
        token_of([1, 2]),
        token_of({"o": 5}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"{not json").decode(),
    ],
)
def test_a_malformed_cursor_is_refused(token: str) -> None:
    refused(CURSOR, "cannot be read", cursor=token)


def test_a_cursor_from_another_seed_or_collection_or_out_of_bounds_is_refused() -> None:
    ours = page_fields(CURSOR, 0, 50, TOTAL, SEED, "workflows")["next"]
    refused(CURSOR, "another seed", seed=SEED + 1, cursor=ours)
    refused(CURSOR, "pages 'workflows', not 'pools'", collection="pools", cursor=ours)
    stamp = json.loads(base64.urlsafe_b64decode(ours + "=" * (-len(ours) % 4)))["s"]
    for offset in (-1, 10_000_001, "5", True):
        refused(CURSOR, "outside 0 to 10,000,000", cursor=token_of({"o": offset, "s": stamp, "c": "workflows"}))


def test_the_style_is_read_off_a_pacts_query_names() -> None:
    assert infer_page({"offset", "limit"}) == Page("offset", "offset", "limit")
    assert infer_page({"from", "size", "status"}) == Page("from", "from", "size")
    assert infer_page({"page", "per_page"}) == Page("page", "page", "per_page")
    assert infer_page({"page", "pageSize"}) == Page("page", "page", "pageSize")
    assert infer_page({"cursor", "limit"}) == Page("cursor", "cursor", "limit")
    assert infer_page({"cursor"}) == Page("cursor", "cursor", "limit")
    assert infer_page({"status", "name"}) is None
    assert infer_page(set()) is None
