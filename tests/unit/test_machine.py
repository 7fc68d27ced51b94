import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from sandbox.core.machine import Facts, MachineError, TransitionRefused, build_machines

SPEC = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "state_machines.yaml").read_text())[
    "machines"
]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def machines(spec=None):
    # build_machines expects shape-validated input: "from" arrives as "from_".
    spec = copy.deepcopy(spec or SPEC)
    for machine in spec.values():
        for transition in machine.get("transitions", []):
            transition["from_"] = transition.pop("from")
    return build_machines(spec)


def test_default_machines_build_with_every_mapping():
    loaded = machines()
    assert set(loaded) == {"payment", "capture", "void", "refund"}
    payment = loaded["payment"]
    assert payment.initial == "created"
    assert payment.view("authorized", "transaction_code") == "4"
    assert payment.view("paid", "legacy_status") == "paid"
    assert loaded["refund"].view("pending", "app_status") == "PROCESSING"


def test_guards_choose_between_transitions_of_one_event():
    payment = machines()["payment"]
    assert payment.fire("created", "succeed", Facts(manual_capture=False)).target == "paid"
    assert payment.fire("created", "succeed", Facts(manual_capture=True)).target == "authorized"


def test_refund_guards_split_partial_full_and_too_much():
    payment = machines()["payment"]
    facts = Facts(amount=Decimal(100), captured=Decimal(100), refunded=Decimal(0))
    partial = Facts(**{**facts.__dict__, "event_amount": Decimal(40)})
    full = Facts(**{**facts.__dict__, "event_amount": Decimal(100)})
    too_much = Facts(**{**facts.__dict__, "event_amount": Decimal("100.01")})
    assert payment.fire("paid", "refund", partial).target == "partially_refunded"
    assert payment.fire("paid", "refund", full).target == "refunded"
    with pytest.raises(TransitionRefused, match="guard not met"):
        payment.fire("paid", "refund", too_much)


def test_an_event_with_no_transition_is_refused():
    with pytest.raises(TransitionRefused, match="no such transition"):
        machines()["payment"].fire("paid", "void", Facts())


def test_timeouts_come_due_on_the_clock_and_respect_guards():
    payment = machines()["payment"]
    online, offline = Facts(online=True), Facts(online=False)
    assert payment.due_timeout("created", T0, T0 + timedelta(hours=47), online) is None
    transition, at = payment.due_timeout("created", T0, T0 + timedelta(days=3), online)
    assert (transition.target, at) == ("expired", T0 + timedelta(days=2))
    assert payment.due_timeout("created", T0, T0 + timedelta(days=30), offline) is None


def _broken(mutate):
    spec = copy.deepcopy(SPEC)
    mutate(spec)
    with pytest.raises(MachineError) as info:
        machines(spec)
    return info.value


def test_unknown_state_in_a_transition_names_the_key():
    error = _broken(lambda s: s["payment"]["transitions"][0].update(to="payed"))
    assert error.path == "payment.transitions[0].to"
    assert "unknown state 'payed'" in error.message


def test_unreachable_state_is_refused():
    error = _broken(lambda s: s["capture"]["states"].update(limbo={"app_status": "PROCESSING"}))
    assert error.path == "capture.states.limbo"
    assert "unreachable" in error.message


def test_missing_mapping_is_refused():
    error = _broken(lambda s: s["payment"]["states"]["paid"].pop("legacy_status"))
    assert error.path == "payment.states.paid.legacy_status"
    assert "missing mapping" in error.message


def test_invalid_mapping_value_is_refused():
    error = _broken(lambda s: s["payment"]["states"]["paid"].update(transaction_code="7"))
    assert "'7' is not one of" in error.message


def test_unknown_guard_and_bad_timeout_are_refused():
    error = _broken(lambda s: s["void"]["transitions"][0].update(guard="if_lucky"))
    assert error.path == "void.transitions[0].guard" and "unknown guard" in error.message
    error = _broken(lambda s: s["void"]["transitions"][0].update(timeout="soon"))
    assert error.path == "void.transitions[0].timeout"


def test_missing_and_unknown_machines_are_refused():
    assert _broken(lambda s: s.pop("refund")).path == "refund"
    assert (
        "unknown machine" in _broken(lambda s: s.update(dispute=copy.deepcopy(s["void"]))).message
    )


def test_initial_state_must_exist():
    assert _broken(lambda s: s["void"].update(initial="nowhere")).path == "void.initial"
