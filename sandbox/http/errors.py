"""Every error, ours, werkzeug's and webargs', rendered once, app-wide, as ``{"error": ...}``."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from sandbox.errors import ApiError


def error_body(message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    return body


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[dict[str, Any], int, dict[str, str]]:
        return exc.to_body(), exc.status, exc.headers

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
        if isinstance(exc, NotFound):
            message = f"Not found: {request.method} {request.path}"
        elif isinstance(exc, MethodNotAllowed):
            allowed = ", ".join(sorted(m for m in (exc.valid_methods or []) if m != "OPTIONS"))
            message = (
                f"Method {request.method} is not allowed on {request.path} (allowed: {allowed})"
            )
        elif isinstance(exc, RequestEntityTooLarge):
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"Request body too large (limit {limit} bytes)"
        else:
            message = exc.description or exc.name
        response = exc.get_response()
        headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
        return error_body(message), exc.code or 500, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[dict[str, Any], int]:
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_body(f"Internal sandbox error ({type(exc).__name__}); see the server log"), 500
