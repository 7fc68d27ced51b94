"""Lifecycles as data: states, transitions, guards, timeouts, and how each state shows per API.

``fixtures/state_machines.yaml`` declares them; :func:`build_machines` checks them and returns
:class:`Machine` objects. Guards are named in YAML and defined once here, in :data:`GUARDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.core.timefmt import parse_duration

APP_PAYMENT_STATUSES = ("PROCESSING", "SUCCESS", "AUTH_SUCCESS", "FAILURE")
APP_STATUSES = ("PROCESSING", "SUCCESS", "FAILURE")
TRANSACTION_CODES = ("1", "2", "3", "4", "9")
LEGACY_STATUSES = ("pending", "paid", "expired")

# The objects an app can be asked about (seed 001's Get payment and Get refund).
QUERYABLE = ("payment", "refund")
# Which machines must exist, and which views each of their states must map (with allowed values).
REQUIRED_VIEWS: dict[str, dict[str, tuple[str, ...]]] = {
    "payment": {
        "app_status": APP_PAYMENT_STATUSES,
        "transaction_code": TRANSACTION_CODES,
        "legacy_status": LEGACY_STATUSES,
    },
    "capture": {"app_status": APP_STATUSES},
    "void": {"app_status": APP_STATUSES},
    "refund": {"app_status": APP_STATUSES, "transaction_code": ("1", "2", "9")},
}


@dataclass(frozen=True)
class Facts:
    """What guards may look at: the object's own figures and the event's."""

    manual_capture: bool = False
    online: bool = True
    amount: Decimal = Decimal(0)
    captured: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    # The amount the firing event carries (a capture's or a refund's), if any.
    event_amount: Decimal | None = None


def _refunded_after(facts: Facts) -> Decimal:
    return facts.refunded + (facts.event_amount or Decimal(0))


GUARDS: dict[str, Callable[[Facts], bool]] = {
    "manual_capture": lambda f: f.manual_capture,
    "automatic_capture": lambda f: not f.manual_capture,
    "online": lambda f: f.online,
    "offline": lambda f: not f.online,
    "capture_within_authorized": lambda f: (
        f.event_amount is not None and f.event_amount <= f.amount - f.captured
    ),
    "refund_within_captured": lambda f: (
        f.event_amount is not None and _refunded_after(f) <= f.captured
    ),
    "refund_partial": lambda f: _refunded_after(f) < f.captured,
    "refund_full": lambda f: _refunded_after(f) == f.captured,
}
GUARD_HELP = {
    "manual_capture": "the payment was created with manualCapture true",
    "automatic_capture": "the payment was created with manualCapture false",
    "online": "the payment method is online (it can expire)",
    "offline": "the payment method is offline",
    "capture_within_authorized": "the capture amount is not above what is still capturable",
    "refund_within_captured": "refunds so far plus this one are not above what was captured",
    "refund_partial": "after this refund, some captured money is left",
    "refund_full": "after this refund, all captured money is refunded",
}


class MachineError(ValueError):
    """A machine definition is wrong; ``path`` names the key (``payment.states.paid``)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class TransitionRefused(Exception):
    def __init__(self, machine: str, state: str, event: str, reason: str):
        super().__init__(f"{machine} in state '{state}' cannot take event '{event}': {reason}")
        self.machine, self.state, self.event, self.reason = machine, state, event, reason


@dataclass(frozen=True)
class Transition:
    event: str
    source: str
    target: str
    guard: str | None = None
    timeout: timedelta | None = None


@dataclass(frozen=True)
class Machine:
    name: str
    initial: str
    states: Mapping[str, Mapping[str, str]]  # state -> view -> shown value
    transitions: tuple[Transition, ...]
    _by_source: Mapping[str, tuple[Transition, ...]] = field(default_factory=dict, repr=False)
    # How long the platform waits for a result after the app answered before it asks the app
    # (Get payment, Get refund); None: it never asks.
    query_after: timedelta | None = None

    def view(self, state: str, view: str) -> str:
        return self.states[state][view]

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        return self._by_source.get(state, ())

    def fire(self, state: str, event: str, facts: Facts) -> Transition:
        """The first declared transition for ``event`` out of ``state`` whose guard holds."""
        candidates = [t for t in self.transitions_from(state) if t.event == event]
        if not candidates:
            raise TransitionRefused(self.name, state, event, "no such transition")
        for transition in candidates:
            if transition.guard is None or GUARDS[transition.guard](facts):
                return transition
        failed = ", ".join(sorted({t.guard for t in candidates if t.guard}))
        raise TransitionRefused(self.name, state, event, f"guard not met ({failed})")

    def can_fire(self, state: str, event: str, facts: Facts) -> bool:
        """A dry run of :meth:`fire`: may ``event`` be taken out of ``state`` with ``facts``?
        (The platform asks before it starts a capture, void or refund.)"""
        try:
            self.fire(state, event, facts)
        except TransitionRefused:
            return False
        return True

    def due_timeout(
        self, state: str, entered_at: datetime, now: datetime, facts: Facts
    ) -> tuple[Transition, datetime] | None:
        """The timeout transition that has come due, with the instant it fired."""
        for transition in self.transitions_from(state):
            if transition.timeout is None:
                continue
            deadline = entered_at + transition.timeout
            if deadline <= now and (transition.guard is None or GUARDS[transition.guard](facts)):
                return transition, deadline
        return None

    def next_deadline(self, state: str, entered_at: datetime) -> datetime | None:
        """The earliest instant a timeout out of ``state`` could fire (guards aside)."""
        deadlines = [entered_at + t.timeout for t in self.transitions_from(state) if t.timeout]
        return min(deadlines, default=None)


def build_machines(document: Mapping[str, Any]) -> dict[str, Machine]:
    """Check a ``machines`` mapping (already shape-validated) and build the machines."""
    machines: dict[str, Machine] = {}
    for name in document:
        if name not in REQUIRED_VIEWS:
            known = ", ".join(REQUIRED_VIEWS)
            raise MachineError(name, f"unknown machine (known: {known})")
    for name, views in REQUIRED_VIEWS.items():
        if name not in document:
            raise MachineError(name, "machine is missing")
        machines[name] = _build_machine(name, document[name], views)
    return machines


def _build_machine(
    name: str, spec: Mapping[str, Any], views: Mapping[str, tuple[str, ...]]
) -> Machine:
    states: dict[str, dict[str, str]] = {}
    for state, mapping in spec["states"].items():
        mapping = mapping or {}
        for view, allowed in views.items():
            path = f"{name}.states.{state}.{view}"
            if view not in mapping:
                raise MachineError(path, f"missing mapping (one of: {', '.join(allowed)})")
            value = str(mapping[view])
            if value not in allowed:
                raise MachineError(path, f"'{value}' is not one of: {', '.join(allowed)}")
        for view in mapping:
            if view not in views:
                raise MachineError(
                    f"{name}.states.{state}.{view}",
                    f"unknown view (this machine maps: {', '.join(views)})",
                )
        states[state] = {view: str(mapping[view]) for view in views}
    if spec["initial"] not in states:
        raise MachineError(f"{name}.initial", f"unknown state '{spec['initial']}'")

    transitions = []
    for index, item in enumerate(spec["transitions"]):
        path = f"{name}.transitions[{index}]"
        for key in ("from_", "to"):
            if item[key] not in states:
                raise MachineError(f"{path}.{key.rstrip('_')}", f"unknown state '{item[key]}'")
        guard = item.get("guard")
        if guard is not None and guard not in GUARDS:
            raise MachineError(
                f"{path}.guard", f"unknown guard '{guard}' (known: {', '.join(GUARDS)})"
            )
        timeout = None
        if item.get("timeout") is not None:
            try:
                timeout = parse_duration(item["timeout"])
            except ValueError as exc:
                raise MachineError(f"{path}.timeout", str(exc)) from None
        transitions.append(Transition(item["event"], item["from_"], item["to"], guard, timeout))

    reachable, frontier = {spec["initial"]}, [spec["initial"]]
    while frontier:
        current = frontier.pop()
        for t in transitions:
            if t.source == current and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    for state in states:
        if state not in reachable:
            raise MachineError(
                f"{name}.states.{state}", f"unreachable from the initial state '{spec['initial']}'"
            )
    by_source: dict[str, tuple[Transition, ...]] = {}
    for t in transitions:
        by_source[t.source] = (*by_source.get(t.source, ()), t)
    query_after = None
    if spec.get("query_after") is not None:
        if name not in QUERYABLE:
            raise MachineError(
                f"{name}.query_after", f"only {' and '.join(QUERYABLE)} can be queried"
            )
        try:
            query_after = parse_duration(spec["query_after"])
        except ValueError as exc:
            raise MachineError(f"{name}.query_after", str(exc)) from None
    return Machine(name, spec["initial"], states, tuple(transitions), by_source, query_after)
