"""Timestamps and durations: one format in storage, Genstore's formats on the wire."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.ASCII)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$", re.ASCII)


# The longest move of the clock one call may make (about 100 years).
MAX_DURATION = timedelta(days=36525)
# The sandbox clock's range: times outside it are refused (they could not be stored and read).
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def parse_duration(value: object) -> timedelta:
    """``90``, ``"90s"``, ``"15m"``, ``"48h"``, ``"2d"`` -> timedelta. Negative is refused."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as '90s', '48h', '2d'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(
            f"not a duration: {value!r} (use seconds or a string such as '90s', '15m', '48h', '2d')"
        )
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"not a duration: {value!r}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"a duration is at most {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


@lru_cache(maxsize=256)
def parse_offset(value: str) -> timezone:
    """``"+08:00"`` -> a fixed-offset timezone."""
    match = _OFFSET.match(value or "")
    if not match:
        raise ValueError(f"not a UTC offset: {value!r} (use the form '+08:00')")
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes > 59:
        raise ValueError(f"UTC offset out of range: {value!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_instant(value: object) -> datetime:
    """An ISO-8601 timestamp with an offset (``Z`` allowed) -> aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {value!r}") from None
    else:
        raise ValueError(f"not an ISO-8601 timestamp: {value!r}")
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} needs a UTC offset, e.g. '2026-01-01T00:00:00Z'")
    return parsed.astimezone(UTC)


def to_storage(moment: datetime) -> str:
    """The one format timestamps are stored in: UTC, microseconds, sortable as text (the year
    always four digits, so every stored time reads back)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_storage(text: str) -> datetime:
    return datetime.fromisoformat(text)


def iso_seconds(moment: datetime, tz: timezone) -> str:
    """Seed 002's format: ``2019-06-28T18:03:50+01:00``."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


def iso_millis(moment: datetime, tz: timezone) -> str:
    """Seed 003's format: ``2015-05-12T16:47:20.179+08:00``."""
    return moment.astimezone(tz).isoformat(timespec="milliseconds")
