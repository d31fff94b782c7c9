"""Dates and times written out for the `Date`, `Time` and `DateTime` generators: a Pact date expression
("tomorrow", "+1 day +2 hours", "-3 months") applied to now, printed with a Java date/time pattern."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

_EXPRESSION_BASE = re.compile(r"\s*(now|today|tomorrow|yesterday)?", re.IGNORECASE)
_EXPRESSION_TERM = re.compile(r"\s*([+-])\s*(\d+)\s*(second|minute|hour|day|week|month|year)s?\b", re.IGNORECASE)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _add_months(moment: datetime, months: int) -> datetime:
    # Calendar months: Jan 31 + 1 month is the last day of February, not March 2.
    year, month = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def evaluate(expression: str, now: datetime) -> datetime:
    """Applies a Pact date expression such as "tomorrow", "+1 day +2 hours" or "-3 months" to now."""
    found = _EXPRESSION_BASE.match(expression)
    assert found is not None  # every part of the base pattern is optional
    base = (found.group(1) or "now").lower()
    moment = now + timedelta(days={"tomorrow": 1, "yesterday": -1}.get(base, 0))
    pos = found.end()
    while term := _EXPRESSION_TERM.match(expression, pos):
        amount = int(term.group(2)) * (-1 if term.group(1) == "-" else 1)
        unit = term.group(3).lower()
        if unit in ("month", "year"):
            moment = _add_months(moment, amount * (12 if unit == "year" else 1))
        else:
            moment += timedelta(seconds=amount * _UNIT_SECONDS[unit])
        pos = term.end()
    if expression[pos:].strip():
        raise ValueError(f"unsupported date expression {expression!r} (from {expression[pos:].strip()!r})")
    return moment


def _java_field(letter: str, count: int, moment: datetime) -> str:
    # Generated moments are always UTC, so every zone field prints the zero offset.
    numbers = {
        "d": moment.day,
        "D": moment.timetuple().tm_yday,
        "H": moment.hour,
        "k": moment.hour or 24,
        "K": moment.hour % 12,
        "h": moment.hour % 12 or 12,
        "m": moment.minute,
        "s": moment.second,
        "Q": (moment.month - 1) // 3 + 1,
        "q": (moment.month - 1) // 3 + 1,
    }
    if letter in numbers:
        return str(numbers[letter]).zfill(count)
    if letter in "yuY":
        year = moment.isocalendar().year if letter == "Y" else moment.year
        return f"{year % 100:02d}" if count == 2 else str(year).zfill(count)
    if letter in "ML":
        name = _MONTHS[moment.month - 1]
        return str(moment.month).zfill(count) if count <= 2 else name[:3] if count == 3 else name
    if letter == "E":
        name = _DAYS[moment.weekday()]
        return name if count >= 4 else name[:3]
    if letter == "S":
        return f"{moment.microsecond:06d}000".ljust(count, "0")[:count]
    if letter == "n":
        return str(moment.microsecond * 1000)
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "G":
        return "AD"
    zones = {"X": "Z", "x": ["+00", "+0000", "+00:00"][min(count, 3) - 1], "z": "UTC", "O": "GMT", "V": "UTC"}
    if letter in zones:
        return zones[letter]
    if letter == "Z":
        return "Z" if count >= 5 else "GMT" if count == 4 else "+0000"
    raise ValueError(f"date/time pattern letter {letter!r} is not supported by the generators")


def format_java(pattern: str, moment: datetime) -> str:
    """``moment`` printed with a Java date/time pattern: zones print as UTC, optional sections always print;
    ValueError for a pattern letter the generators do not support."""
    out: list[str] = []
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "'":
            end = pattern.find("'", pos + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[pos + 1 : end] if end > pos + 1 else "'")  # '' is a literal quote
            pos = end + 1
        elif char.isascii() and char.isalpha():
            count = 1
            while pattern[pos + count : pos + count + 1] == char:
                count += 1
            out.append(_java_field(char, count, moment))
            pos += count
        else:
            # Optional sections are always printed: every field is available.
            if char not in "[]":
                out.append(char)
            pos += 1
    return "".join(out)
