"""One rule for digits everywhere: ASCII only. Python's ``int()``, ``float()``, ``isdigit()``
and ``\\d`` read any script's digits (Arabic-Indic, full-width, ...), which no Genstore grammar
takes."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits, nothing else."""
    return text.isascii() and text.isdigit()


class Integer(fields.Integer):
    """An integer; given as text, ASCII digits only."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not _INTEGER.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class Float(fields.Float):
    """A number; given as text, ASCII digits only."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not _NUMBER.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)
