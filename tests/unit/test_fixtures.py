import shutil
from pathlib import Path

import pytest

from sandbox.core.fixtures import FixtureError, load_fixtures

FIXTURES = Path(__file__).parents[2] / "fixtures"


def test_default_fixtures_load():
    fixtures = load_fixtures(FIXTURES)
    assert fixtures.shop("demo")["apps"][0]["name"] == "sandbox-psp"
    scopes = [t["scopes"] for t in fixtures.shop("demo")["tokens"]]
    assert ["read_payments_transaction"] in scopes
    assert any("write_payment" in s for s in scopes)


def _problems(tmp_path: Path, shops_yaml: str, *, defaults=FIXTURES) -> str:
    (tmp_path / "shops.yaml").write_text(shops_yaml)
    with pytest.raises(FixtureError) as info:
        load_fixtures(tmp_path, defaults=defaults)
    return str(info.value)


SHOP = """
shops:
  - handle: t
    apps: [{name: psp}]
    tokens: [{token: gst_test_token_1, app: psp, scopes: [write_payment]}]
    orders:
      - id: 1
        payments:
          - {payment_id: P1, amount: "10.00", state: %s}
"""


def test_a_valid_user_file_takes_missing_sections_from_the_defaults(tmp_path):
    (tmp_path / "shops.yaml").write_text(SHOP % "paid")
    fixtures = load_fixtures(tmp_path, defaults=FIXTURES)
    assert [s["handle"] for s in fixtures.shops] == ["t"]
    assert "payment" in fixtures.machines
    assert fixtures.sources["shops"] == tmp_path / "shops.yaml"


def test_unknown_state_is_reported_with_file_key_and_line(tmp_path):
    message = _problems(tmp_path, SHOP % "payed")
    assert f"{tmp_path / 'shops.yaml'}: shops[0].orders[0].payments[0].state (line 9)" in message
    assert "unknown payment state 'payed'" in message


def test_wrong_type_is_reported_with_its_key(tmp_path):
    message = _problems(tmp_path, (SHOP % "paid").replace("id: 1", "id: one"))
    assert "shops[0].orders[0].id (line 7): Not a valid integer" in message


def test_unknown_key_is_reported(tmp_path):
    message = _problems(
        tmp_path, (SHOP % "paid").replace("handle: t", "handle: t\n    colour: red")
    )
    assert "shops[0].colour (line 4): unknown key" in message


def test_unknown_reference_is_reported(tmp_path):
    message = _problems(tmp_path, (SHOP % "paid").replace("app: psp,", "app: nope,"))
    assert "shops[0].tokens[0].app (line 5): unknown app 'nope'" in message


def test_amount_with_too_many_decimals_for_its_currency(tmp_path):
    message = _problems(tmp_path, (SHOP % "paid").replace('"10.00"', '"10.5", currency: JPY'))
    assert "JPY amounts have at most 0 decimal places" in message


def test_invalid_yaml_names_the_line(tmp_path):
    message = _problems(tmp_path, "shops:\n  - handle: [unclosed\n")
    assert "not valid YAML" in message and "(line" in message


def test_unknown_section_is_refused(tmp_path):
    assert "unknown section" in _problems(tmp_path, "shoops: []\n")


def test_a_section_declared_twice_is_refused(tmp_path):
    (tmp_path / "more.yaml").write_text("shops: []\n")
    message = _problems(tmp_path, SHOP % "paid")
    assert "also declared in" in message


def test_broken_machine_file_is_reported_with_its_file_and_line(tmp_path):
    machines = (FIXTURES / "state_machines.yaml").read_text()
    (tmp_path / "state_machines.yaml").write_text(
        machines.replace(
            "{event: void, from: authorized, to: voided}",
            "{event: void, from: authorised, to: voided}",
        )
    )
    shutil.copy(FIXTURES / "default.yaml", tmp_path / "default.yaml")
    with pytest.raises(FixtureError) as info:
        load_fixtures(tmp_path)
    message = str(info.value)
    assert "state_machines.yaml: machines.payment.transitions[6].from (line" in message
    assert "unknown state 'authorised'" in message


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(FixtureError, match="no such file"):
        load_fixtures(tmp_path / "nope.yaml")
