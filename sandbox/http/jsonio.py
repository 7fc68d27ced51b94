"""Flask's JSON provider with orjson on the hot path: every answer the sandbox sends."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from sandbox.core.jsontext import fast_dumps

COMPACT = (",", ":")


class FastJsonProvider(DefaultJSONProvider):
    """Compact, unsorted output (how the sandbox answers) through orjson, the same bytes as
    Flask's own; anything else (indenting, sorting, a date or a Decimal) goes to Flask's."""

    compact = True
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.keys() <= {"separators"} and kwargs.get("separators", COMPACT) == COMPACT:
            text = fast_dumps(obj)
            if text is not None:
                return text
        return super().dumps(obj, **kwargs)
