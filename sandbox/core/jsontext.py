"""Compact JSON text, fast: orjson where it writes exactly the stdlib's bytes."""

from __future__ import annotations

import json
from typing import Any

import orjson


def fast_dumps(value: Any) -> str | None:
    """orjson's compact JSON, keys in their order, when it is the text
    ``json.dumps(value, separators=(",", ":"))`` gives; None when it might not be (a type
    orjson refuses, or non-ASCII text, which orjson writes as UTF-8 and the stdlib escapes)."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        return None
    return text if text.isascii() else None


def dumps(value: Any) -> str:
    return fast_dumps(value) or json.dumps(value, separators=(",", ":"))


def dumps_utf8(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes, non-ASCII text as is: what
    ``json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()`` gives."""
    try:
        return orjson.dumps(value)
    except TypeError:  # a type orjson refuses, or a lone surrogate: the stdlib's way
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
