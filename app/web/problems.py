"""The one error shape: RFC 9457 application/problem+json."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

PROBLEM_TYPE_BASE = "https://pactmock.dev/problems/"


def problem(status: int, title: str, detail: str, kind: str, **extra: Any) -> Response:
    body = {"type": PROBLEM_TYPE_BASE + kind, "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body, default=str), status=status, mimetype="application/problem+json")
