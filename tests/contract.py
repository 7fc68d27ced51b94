"""Every JSON response the API tests see is checked against the OpenAPI documents.

Handlers serialize their dicts directly (see ``sandbox.web.Blueprint``); this is what keeps
them honest: an undocumented status, a missing required field, an extra field or a wrong type
fails the test that caused it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator
from werkzeug.exceptions import HTTPException

from sandbox.app import SURFACES
from sandbox.docs import spec_dict

# Statuses werkzeug produces before any view runs; they are documented once, in the README.
UNDOCUMENTED_OK = {405, 413}


class ContractError(AssertionError):
    pass


class ContractClient(FlaskClient):
    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        check_response(self.application, response.request.method, response.request.path, response)
        return response


def check_response(app: Flask, method: str, path: str, response) -> None:
    operation = _operation(app, method, path)
    if operation is None or response.status_code in UNDOCUMENTED_OK:
        return
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


def _operation(app: Flask, method: str, path: str) -> dict[str, Any] | None:
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path, method=method, return_rule=True)
    except HTTPException:
        return None
    openapi_path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
    for name in SURFACES:
        operation = _resolved(app, name).get("paths", {}).get(openapi_path, {}).get(method.lower())
        if operation is not None:
            return operation
    return None


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
