"""The response checker used by every API test really rejects what breaks the documents."""

import pytest
from flask import Response

from tests.conftest import READ_TOKEN
from tests.contract import ContractError, check_response

PATH = "/api/202412/payment/PI0020261101000000001"


def _json(body, status=200):
    import json

    return Response(json.dumps(body), status=status, mimetype="application/json")


def test_a_real_response_passes(app, client):
    response = client.get(PATH, headers=READ_TOKEN)
    check_response(app, "GET", PATH, response)


def test_an_extra_field_fails(app, client):
    body = client.get(PATH, headers=READ_TOKEN).json
    body["payment"]["surprise"] = 1
    with pytest.raises(ContractError, match="surprise"):
        check_response(app, "GET", PATH, _json(body))


def test_a_wrong_type_fails(app, client):
    body = client.get(PATH, headers=READ_TOKEN).json
    body["payment"]["amount"] = 123.23
    with pytest.raises(ContractError, match="amount"):
        check_response(app, "GET", PATH, _json(body))


def test_an_undocumented_status_fails(app):
    with pytest.raises(ContractError, match="does not document"):
        check_response(app, "GET", PATH, _json({"error": "teapot"}, status=418))


def test_an_error_without_the_error_field_fails(app):
    with pytest.raises(ContractError, match="error"):
        check_response(app, "GET", PATH, _json({"message": "nope"}, status=404))
