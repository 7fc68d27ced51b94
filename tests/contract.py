"""Every JSON response the API tests see is checked against the OpenAPI documents.

Handlers serialize their dicts directly (see ``sandbox.web.Blueprint``); this is what keeps
them honest: an undocumented status, a missing required field, an extra field or a wrong type
fails the test that caused it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator
from werkzeug.exceptions import HTTPException

from sandbox.app import SURFACES
from sandbox.docs import spec_dict

# Statuses werkzeug produces before any view runs; they are documented once, in the README.
UNDOCUMENTED_OK = {405, 413}

# Every (method, OpenAPI path, status) the API tests and the fuzzer saw: at the end of a full
# run, each status a document promises must be among them (tests/api/conftest.py).
OBSERVED: set[tuple[str, str, str]] = set()


def record_status(method: str, openapi_path: str, status: int) -> None:
    OBSERVED.add((method.lower(), openapi_path, str(status)))


class ContractError(AssertionError):
    pass


class ContractClient(FlaskClient):
    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        check_response(self.application, response.request.method, response.request.path, response)
        return response


def record_http(app: Flask, method: str, path_url: str, status: int) -> None:
    """An answer a test got over HTTP from a sandbox running ``app``'s routes."""
    found = _operation(app, method, path_url.split("?", 1)[0])
    if found is not None:
        record_status(method, found[0], status)


def check_response(app: Flask, method: str, path: str, response) -> None:
    found = _operation(app, method, path)
    if found is None or response.status_code in UNDOCUMENTED_OK:
        return
    openapi_path, operation = found
    record_status(method, openapi_path, response.status_code)
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        raise ContractError(
            f"{method} {path} answered {response.status_code}, which its OpenAPI operation does "
            f"not document (documented: {', '.join(operation['responses'])})"
        )
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    assert response.is_json, f"{method} {path}: expected JSON"
    errors = sorted(OAS30Validator(schema).iter_errors(response.json), key=str)
    if errors:
        details = "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        raise ContractError(f"{method} {path} {response.status_code} breaks its schema: {details}")


def _operation(app: Flask, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path, method=method, return_rule=True)
    except HTTPException:
        try:  # an id the converter refused (beyond 64 bits) still names its operation
            rule, _ = adapter.match(re.sub(r"\d{19,}", "1", path), method=method, return_rule=True)
        except HTTPException:
            return None
    openapi_path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
    for name in SURFACES:
        operation = _resolved(app, name).get("paths", {}).get(openapi_path, {}).get(method.lower())
        if operation is not None:
            return openapi_path, operation
    return None


def documented_statuses(directory: Path) -> set[tuple[str, str, str]]:
    """Every (method, OpenAPI path, status) the three documents in ``directory`` promise."""
    promised = set()
    for name in SURFACES:
        spec = yaml.safe_load((directory / f"{name}.yaml").read_text(encoding="utf-8"))
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                if isinstance(operation, dict) and "responses" in operation:
                    promised |= {(method, path, status) for status in operation["responses"]}
    return promised


def _resolved(app: Flask, name: str) -> dict[str, Any]:
    cache = app.extensions.setdefault("contract_specs", {})
    if name not in cache:
        spec = spec_dict(app, name)
        cache[name] = _inline(copy.deepcopy(spec), spec)
    return cache[name]


def _inline(node: Any, spec: dict[str, Any]) -> Any:
    """Replace $refs by what they point at; close objects so extra fields are errors."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _inline(copy.deepcopy(target), spec)
        resolved = {key: _inline(value, spec) for key, value in node.items()}
        if resolved.get("type") == "object" and "properties" in resolved:
            resolved.setdefault("additionalProperties", False)
        return resolved
    if isinstance(node, list):
        return [_inline(item, spec) for item in node]
    return node
