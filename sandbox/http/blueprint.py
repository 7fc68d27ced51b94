"""flask-smorest's Blueprint and Api as every surface uses them: bodies parsed as JSON
whatever the Content-Type, errors in Genstore's shape, wire-ready dicts serialized directly.

Handlers stay thin: parse (schemas), call a service, return what it gives.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from typing import Any

import flask_smorest
import marshmallow as ma
import werkzeug.exceptions
from apispec import APISpec, BasePlugin
from flask import Response
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from sandbox.core.jsontext import dumps_utf8
from sandbox.errors import BadRequest, validation_error

JSON = "application/json"


def dump_json(body: Any) -> bytes:
    return dumps_utf8(body)


class ErrorSchema(ma.Schema):
    """Genstore's error shape: always an ``error`` string; ``details`` names failing fields."""

    error = ma.fields.String(required=True, metadata={"example": "Payment PI0020 not found"})
    details = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For validation errors: field path -> what is wrong"},
    )


class Parser(FlaskParser):
    """Bodies parse as JSON whatever the Content-Type; every failure is a Genstore 400."""

    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):
        if not req.get_data(cache=True):
            return ma.missing
        try:
            return json.loads(req.get_data(cache=True))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Request body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequest("Request body is not valid JSON: nested too deeply") from None

    def parse(self, argmap, req=None, **kwargs):
        """As webargs parses, then no integer beyond what the store keeps (64 bits)."""
        parsed = super().parse(argmap, req, **kwargs)
        problems = dict(_oversized(parsed))
        if problems:
            raise validation_error(problems)
        return parsed

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        # webargs keys messages by location ({"json": {...}}); the location is noise to users.
        if isinstance(messages, dict) and len(messages) == 1:
            ((location, inner),) = messages.items()
            if location in ("json", "query", "view_args", "headers") and isinstance(inner, dict):
                messages = inner
        raise validation_error(messages)


LARGEST_INT = 2**63 - 1


def _oversized(value, path: str = ""):
    """(field, [message]) for every integer in parsed arguments the store could not keep."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > LARGEST_INT:
        yield path or "body", [f"at most {LARGEST_INT}"]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _oversized(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _oversized(item, f"{path}[{index}]")


class BoundedInt(IntegerConverter):
    r"""``<int:...>`` path parts the store can keep: a larger one is a 400 naming it, not a
    500 from the database. ASCII digits only (werkzeug's ``\d`` takes any script's)."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > LARGEST_INT:
            raise werkzeug.exceptions.BadRequest(
                f"Invalid request: path: {value[:30]}... is larger than {LARGEST_INT}"
            )
        return number


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with bodies serialized straight to JSON.

    Handlers return wire-ready dicts built by the domain's view functions; the ``response``
    schema documents them (OpenAPI) and the test suite checks every response against that
    document. Skipping marshmallow's dump here halves the cost of the read path.
    """

    ARGUMENTS_PARSER = Parser()

    def response(self, status_code, schema=None, **kwargs):
        document = super().response(status_code, schema, **kwargs)

        def decorator(func):
            documented = document(func)

            @functools.wraps(func)
            def wrapper(*args, **kw):
                result = func(*args, **kw)
                if isinstance(result, Response):
                    return result
                return Response(dump_json(result), status=status_code, mimetype=JSON)

            wrapper._apidoc = documented._apidoc
            return wrapper

        return decorator

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with the schema made once: given a class, webargs would build
        an instance on every request (about 80 us each)."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def alt_response(self, *args, **kwargs):
        return _documentation_only(super().alt_response(*args, **kwargs))

    @staticmethod
    def doc(**kwargs):
        return _documentation_only(flask_smorest.Blueprint.doc(**kwargs))


def _documentation_only(decorator):
    """Keep what a flask-smorest decorator adds to the docs; drop its runtime wrapper, which
    would only cost every request a few proxy lookups."""

    def apply(func):
        func._apidoc = decorator(func)._apidoc
        return func

    return apply


class StrictQueryParser(Parser):
    """Unknown query parameters are a 400 naming them (a typo such as ``?shopp=`` would
    otherwise be silently ignored): for the sandbox's own API, not Genstore's."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **Parser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": "raise",
        "querystring": "raise",
    }


class StrictBlueprint(Blueprint):
    """A Blueprint whose query parameters are checked like its bodies."""

    ARGUMENTS_PARSER = StrictQueryParser()


class Api(flask_smorest.Api):
    """flask-smorest's Api, documenting lazily: a blueprint's routes are registered at once,
    its OpenAPI documentation when the document is first asked for (:meth:`document`).
    Building the three documents was most of what a worker spent starting up."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None
    _documenting = threading.Lock()

    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault("_undocumented", []).append((blp, name, parameters))

    def document(self) -> APISpec:
        """The OpenAPI document, every registered blueprint in it."""
        with self._documenting:
            for blp, name, parameters in self.__dict__.pop("_undocumented", []):
                blp.register_views_in_doc(
                    self, self._app, self.spec, name=name, parameters=parameters
                )
                self.spec.tag({"name": name, "description": blp.description})
        return self.spec

    def _register_error_handlers(self):
        """Errors are handled once, app-wide, by :func:`install_error_handlers`."""


def _error_response(description: str) -> dict:
    """An OpenAPI response in Genstore's error shape; a fresh dict each time (the YAML
    dump would alias a shared one)."""
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


class GuardResponses(BasePlugin):
    """Documents what a guard in front of every operation of a surface may answer:
    ``always`` on every operation, ``changes`` on those that change state, and an optional
    bearer token (``security: [{}, {scheme: []}]``)."""

    SAFE = ("get", "head", "options")

    def __init__(self, always: dict[int, str], changes: dict[int, str], scheme: str):
        super().__init__()
        self.always, self.changes, self.scheme = always, changes, scheme

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = {**self.always, **({} if method in self.SAFE else self.changes)}
            for status, description in answers.items():
                operation["responses"].setdefault(str(status), _error_response(description))
            operation.setdefault("security", [{}, {self.scheme: []}])


_STRING_KEYWORDS = ("type", "enum", "format", "minLength", "maxLength", "pattern")


def document_wire_alternatives(self, field, ret, **kwargs):
    """A marshmallow-to-OpenAPI attribute function: a field that also takes other JSON types
    (``OPENAPI_ALTERNATIVES``: a string field that accepts numbers, a flag that accepts JSON
    booleans) is documented as ``anyOf`` the string and those types."""
    alternatives = getattr(field, "OPENAPI_ALTERNATIVES", ())
    if not alternatives or ret.get("type") != "string":
        return {}
    string = {key: ret.pop(key) for key in _STRING_KEYWORDS if key in ret}
    # A fresh dict each time (the YAML dump would alias a shared one).
    others = (copy.deepcopy(kind) if isinstance(kind, dict) else {"type": kind}
              for kind in alternatives)  # fmt: skip
    return {"anyOf": [string, *others]}


class Int64PathParameters(BasePlugin):
    """Integer path parameters hold what the store keeps, 0 to 2^63-1 (``BoundedInt``); a
    larger one is a 400, so every operation with one documents it."""

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        bounded = False
        for parameter in parameters or []:
            schema = parameter.get("schema", {}) if isinstance(parameter, dict) else {}
            if parameter.get("in") == "path" and schema.get("type") == "integer":
                schema.update(format="int64", minimum=0, maximum=LARGEST_INT)
                bounded = True
        for operation in (operations or {}).values() if bounded else ():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault(
                    "400", _error_response(f"A path id beyond {LARGEST_INT}")
                )
