"""Date and time checks for the date, time and datetime (timestamp) matchers.

Pact formats are Java DateTimeFormatter / SimpleDateFormat patterns. They are
compiled to a regular expression with a capture group per numeric field, so
"2024-13-40" fails "yyyy-MM-dd" on its ranges as well as its shape.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time
from functools import lru_cache

# letter -> (regex for a run of n letters, range of the numeric value or None)
_NUMERIC_RANGES = {
    "M": (1, 12),
    "L": (1, 12),
    "d": (1, 31),
    "D": (1, 366),
    "H": (0, 23),
    "k": (1, 24),
    "K": (0, 11),
    "h": (1, 12),
    "m": (0, 59),
    "s": (0, 60),
}
_ZONE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
# Years are captured too, to tell which days February has.
_YEAR_RANGE = (-999_999_999, 999_999_999)


class DateFormatError(ValueError):
    """The pattern uses a letter the Java formatters do not define."""


def _letter_regex(letter: str, count: int) -> str:
    if letter in "yuY":
        return r"\d{2}" if count == 2 else r"\d{4}" if count == 4 else r"-?\d{1,9}"
    if letter in "ML":
        if count >= 4:
            return r"[^\W\d_]{3,}"
        if count == 3:
            return r"[^\W\d_]{3,4}\.?"
        return r"\d{2}" if count == 2 else r"\d{1,2}"
    if letter in _NUMERIC_RANGES:
        return rf"\d{{{count}}}" if count >= 2 else r"\d{1,3}" if letter == "D" else r"\d{1,2}"
    if letter == "S":
        return rf"\d{{{count}}}"
    if letter == "n":
        return r"\d{1,9}"
    if letter == "N":
        return r"\d+"
    if letter == "a":
        return r"(?:[AaPp][Mm])"
    if letter in "Ee":
        return r"[^\W\d_]{2,}\.?" if count >= 3 or letter == "E" else r"\d{1,2}"
    if letter == "c":
        return r"\d"
    if letter == "G":
        return r"(?:AD|BC|Anno Domini|Before Christ)"
    if letter in "wWFQq":
        return r"\d{1,2}"
    if letter == "z":
        return r"(?:[A-Za-z][A-Za-z/_+\-]*(?:[+-]\d{1,2}(?::\d{2})?)?)"
    if letter == "Z":
        return (
            r"(?:Z|[+-]\d{2}:\d{2})"
            if count >= 5
            else r"(?:GMT[+-]\d{1,2}:\d{2}|[+-]\d{4})"
            if count == 4
            else r"[+-]\d{4}"
        )
    if letter == "X":
        return [r"(?:Z|[+-]\d{2}(?:\d{2})?)", r"(?:Z|[+-]\d{4})", r"(?:Z|[+-]\d{2}:\d{2})"][min(count, 3) - 1]
    if letter == "x":
        return [r"[+-]\d{2}(?:\d{2})?", r"[+-]\d{4}", r"[+-]\d{2}:\d{2}"][min(count, 3) - 1]
    if letter == "O":
        return r"GMT(?:[+-]\d{1,2}(?::\d{2})?)?"
    if letter == "V":
        return r"[A-Za-z][A-Za-z0-9/_+\-]*"
    raise DateFormatError(f"pattern letter {letter!r} is not a Java date/time pattern letter")


@lru_cache(maxsize=512)
def compile_format(pattern: str) -> tuple[re.Pattern[str], tuple[tuple[str, int, int, int], ...]]:
    """Regex for a Java pattern plus the (letter, letter count, min, max) of each capture group."""
    out: list[str] = []
    ranges: list[tuple[str, int, int, int]] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:  # '' is a literal quote
                out.append("'")
                i += 2
                continue
            end = len(pattern) if end < 0 else end
            out.append(re.escape(pattern[i + 1 : end]))
            i = end + 1
            continue
        if char == "[":
            out.append("(?:")
            i += 1
            continue
        if char == "]":
            out.append(")?")
            i += 1
            continue
        if char.isascii() and char.isalpha():
            count = 1
            while i + count < len(pattern) and pattern[i + count] == char:
                count += 1
            regex = _letter_regex(char, count)
            numeric = char in _NUMERIC_RANGES and not (char in "ML" and count >= 3)
            if numeric:
                out.append(f"({regex})")
                ranges.append((char, count, *_NUMERIC_RANGES[char]))
            elif char in "yu":
                out.append(f"({regex})")
                ranges.append((char, count, *_YEAR_RANGE))
            else:
                out.append(regex)
            i += count
            continue
        out.append(re.escape(char))
        i += 1
    return re.compile("".join(out)), tuple(ranges)


def matches_format(value: str, pattern: str) -> bool:
    """Whether ``value`` has the Java pattern's shape, every numeric field in range, on a day the calendar has;
    DateFormatError when the pattern is not one."""
    regex, ranges = compile_format(pattern)
    found = regex.fullmatch(value)
    if not found:
        return False
    fields: dict[str, int] = {}
    for group, (letter, count, low, high) in zip(found.groups(), ranges):
        if group is None:
            continue
        number = int(group)
        if not low <= number <= high:
            return False
        fields[letter] = 2000 + number if letter in "yu" and count == 2 else number
    return _on_the_calendar(fields)


def _on_the_calendar(fields: dict[str, int]) -> bool:
    """A day the month has: 2000-02-30 and 2001-02-29 are refused, as the reference refuses them."""
    day, month = fields.get("d"), fields.get("M", fields.get("L"))
    if day is None or month is None or day <= 28:
        return True
    year = fields.get("y", fields.get("u"))
    # Without a year (or outside the calendar module's), February 29 is a day some year has.
    leap_or_given = 2000 if year is None or not 1 <= year <= 9999 else year
    return day <= calendar.monthrange(leap_or_given, month)[1]


def is_iso_date(value: str) -> bool:
    """Whether ``value`` is an ISO 8601 date: what the date matcher checks when it has no format."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_iso_time(value: str) -> bool:
    """Whether ``value`` is an ISO 8601 time, with or without an offset (`Z` too): the time matcher without a format."""
    try:
        time.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_iso_datetime(value: str) -> bool:
    """Whether ``value`` is an ISO 8601 date and time (`T` or a space between, up to nanoseconds, an optional offset):
    the datetime matcher without a format."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?" + _ZONE + "?", value):
        return False
    try:
        # fromisoformat handles at most microseconds; trim nanoseconds first.
        datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00")))
    except ValueError:
        return False
    return True
