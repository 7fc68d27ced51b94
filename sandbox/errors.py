"""Domain errors, rendered everywhere as Genstore's shape ``{"error": "..."}``.

No Flask here: the HTTP layer turns an :class:`ApiError` into a response.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.core import money


class ApiError(Exception):
    """An error with an HTTP status, a message and optional field details."""

    status = 400

    def __init__(
        self,
        message: str,
        details: dict[str, Any] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}
        if status is not None:
            self.status = status

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class UnsupportedMediaType(ApiError):
    status = 415


class TooManyRequests(ApiError):
    status = 429


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages into ``{"pay.result": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            for sub_key, sub_value in flatten_messages(value, name).items():
                flat.setdefault(sub_key, []).extend(sub_value)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for sub_key, sub_value in flatten_messages(item, prefix).items():
                flat.setdefault(sub_key, []).extend(sub_value)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def validation_error(messages: Any, what: str = "request") -> BadRequest:
    """A 400 whose message names every failing field and why."""
    details = flatten_messages(messages)
    summary = "; ".join(
        f"{field}: {' '.join(m.rstrip('.') for m in msgs)}"
        for field, msgs in sorted(details.items())
    )
    return BadRequest(f"Invalid {what}: {summary}", details=details)


def invalid(field: str, message: str) -> BadRequest:
    """A 400 about one field, in the same shape as schema validation errors."""
    return BadRequest(f"Invalid request: {field}: {message}", details={field: [message]})


def parse_amount_field(raw: Any, currency: str, field: str = "amount") -> Decimal:
    """An amount from a request, or a 400 naming the field and why."""
    try:
        return money.parse_amount(raw, currency)
    except ValueError as exc:
        raise invalid(field, str(exc)) from None
