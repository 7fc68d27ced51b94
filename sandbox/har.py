"""Journal entries as an HTTP Archive (HAR 1.2), the format browsers and HTTP tools read.

Entries go oldest first, bodies as the journal keeps them (card data and secrets already
masked). Which side sent an exchange, its kind and the sandbox's ids ride along in fields
that start with an underscore, as the HAR specification allows for custom data.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox import __version__

HTTP_VERSION = "HTTP/1.1"


def archive(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A HAR document of journal entries as the control API lists them (newest first)."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "genstore-sandbox", "version": __version__},
            "entries": [_entry(entry) for entry in reversed(entries)],
        }
    }


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    duration = max(float(entry["durationMs"] or 0), 0.0)
    return {
        "startedDateTime": entry["at"],
        "time": duration,
        "request": _request(entry),
        "response": _response(entry),
        "cache": {},
        "timings": {"send": 0, "wait": duration, "receive": 0},
        "comment": f"{entry['direction']} {entry['kind']}",
        "_direction": entry["direction"],
        "_kind": entry["kind"],
        "_paymentId": entry["paymentId"],
        "_attempt": entry["attempt"],
        "_fault": entry["fault"],
        "_violation": entry["violation"],
    }


def _request(entry: dict[str, Any]) -> dict[str, Any]:
    headers = _headers(entry["requestHeaders"])
    text = _text(entry["requestBody"])
    request: dict[str, Any] = {
        "method": entry["method"],
        "url": entry["url"],
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": headers,
        "queryString": [
            {"name": name, "value": value}
            for name, value in parse_qsl(urlsplit(entry["url"]).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(text.encode()) if text is not None else 0,
    }
    if text is not None:
        request["postData"] = {"mimeType": _header(headers, "content-type"), "text": text}
    return request


def _response(entry: dict[str, Any]) -> dict[str, Any]:
    headers = _headers(entry["responseHeaders"])
    text = _text(entry["responseBody"])
    status = entry["status"]
    content: dict[str, Any] = {
        "size": len(text.encode()) if text is not None else 0,
        "mimeType": _header(headers, "content-type"),
    }
    if text is not None:
        content["text"] = text
    return {
        "status": status or 0,  # HAR's "no response": the error says why
        "statusText": _reason(status) if status else (entry["error"] or ""),
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": headers,
        "content": content,
        "redirectURL": _header(headers, "location"),
        "headersSize": -1,
        "bodySize": content["size"] if text is not None else -1,
    }


def _headers(headers: Any) -> list[dict[str, str]]:
    if not isinstance(headers, dict):
        return []
    return [{"name": str(name), "value": str(value)} for name, value in headers.items()]


def _header(headers: list[dict[str, str]], name: str) -> str:
    return next((h["value"] for h in headers if h["name"].lower() == name), "")


def _text(body: Any) -> str | None:
    """A body as text: JSON the journal parsed goes back to JSON text."""
    if body is None:
        return None
    if isinstance(body, str):
        return body
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
