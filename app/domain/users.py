"""Who is calling: the Epistemix user an Offline-Token names.

The real API's token is `Bearer <base64 of a JSON object>` whose `user_id` is the caller. A job belongs to
the user whose token registered it. A token of any other form names no one in particular: the mock's
configured default user (PACTMOCK_USER_ID), as before users were read from tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache

from .model import MAX_ID

BEARER = "Bearer "
# A token longer than this is not worth decoding: no user id needs it.
MAX_TOKEN_CHARS = 4096


@lru_cache(maxsize=1024)
def user_of_token(offline_token: str | None, default_user: int) -> int:
    """The user id in `Bearer <base64 JSON with user_id>`, or `default_user` for any other token."""
    if not offline_token or not offline_token.startswith(BEARER) or len(offline_token) > MAX_TOKEN_CHARS:
        return default_user
    encoded = offline_token[len(BEARER) :].strip()
    try:
        # Tokens travel with or without padding, in the standard or the URL-safe alphabet.
        raw = base64.b64decode(
            encoded + "=" * (-len(encoded) % 4), altchars=b"-_" if "-" in encoded or "_" in encoded else None
        )
        claims = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        return default_user
    user = claims.get("user_id") if isinstance(claims, dict) else None
    if isinstance(user, bool) or not isinstance(user, int) or not 0 < user <= MAX_ID:
        return default_user
    return user
