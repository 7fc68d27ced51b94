"""HTTP plumbing shared by every surface: the Blueprint and Api classes, request parsing,
error rendering, and the request hooks (journal, faults). It knows no side of the contract:
what it needs of them (which shop and payment a request is about) is passed in by
``create_app``."""

from sandbox.http.blueprint import (
    JSON,
    Api,
    Blueprint,
    ErrorSchema,
    GuardResponses,
    Int64PathParameters,
    StrictBlueprint,
    document_wire_alternatives,
    dump_json,
)
from sandbox.http.errors import install_error_handlers
from sandbox.http.hooks import RequestFacts, install_request_hooks

__all__ = [
    "JSON",
    "Api",
    "Blueprint",
    "ErrorSchema",
    "GuardResponses",
    "Int64PathParameters",
    "RequestFacts",
    "StrictBlueprint",
    "document_wire_alternatives",
    "dump_json",
    "install_error_handlers",
    "install_request_hooks",
]
