"""Text that goes into a URL, a header or a token: one line, no control characters. A CR/LF
in a webhook address or a platform URL would split the request the sandbox sends with it."""

from __future__ import annotations

from marshmallow import validate

# Documented as the field's pattern in the OpenAPI documents.
SINGLE_LINE = r"^[^\u0000-\u001f\u007f]*$"


def single_line() -> validate.Regexp:
    return validate.Regexp(
        SINGLE_LINE, error="must not contain control characters (CR, LF, tab, NUL, ...)"
    )
