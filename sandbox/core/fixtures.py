"""Load and check fixtures: YAML files validated by marshmallow schemas, then cross-checked.

A fixtures path is a directory (every ``*.yaml``/``*.yml`` in it) or one file. Each top-level
section (``machines``, ``fee_rules``, ``shops``) comes from exactly one file; a section no file
declares comes from the sandbox's default fixtures. Every problem is reported with the file,
the key path and the line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from sandbox.core import crypto, digits, magic, money
from sandbox.core.machine import Machine, MachineError, build_machines
from sandbox.core.magic import Magic
from sandbox.core.shapes import REQUEST_SHAPES
from sandbox.core.text import single_line
from sandbox.core.timefmt import parse_duration, parse_instant, parse_offset
from sandbox.protocol import CAPTURE_FLAG_READINGS, STATUS_QUERY_FORMS

SECTIONS = ("machines", "fee_rules", "shops", "magic", "psp")
# YAML, and JSON (which is YAML too, read by the JSON parser: a hundred times faster for the
# large generated fixtures load tests use).
SUFFIXES = (".yaml", ".yml", ".json")
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader (libyaml's when there), refusing a key given twice in one mapping: YAML
    would keep the last one silently, and a fixture or snapshot would lose data unnoticed."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: set[object] = set()
        for key_node, _value in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


SHOP_HANDLE = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_RELATIVE = re.compile(r"^(now)?\s*([+-])\s*(.+)$")


class FixtureError(ValueError):
    """One or more problems, each ``file: key (line N): message``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:  # raised in serve's preparing process
        return (FixtureError, (self.problems,))


# ---- field types -------------------------------------------------------------------------


class Amount(fields.Field[Decimal]):
    """A positive decimal given as a string or a number; checked per currency later."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        try:
            return money.parse_amount(value, "XXX", allow_zero=True)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


# Relative times repeat across a large fixture ("-3d" on every payment): parse each once.
_duration = lru_cache(maxsize=1024)(parse_duration)


class When(fields.Field[tuple[Any, ...]]):
    """An instant: ISO-8601 with offset, ``now``, or relative to load time (``-30m``, ``-2d``)."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text == "now":
                return ("relative", parse_duration(0), 1)
            if match := _RELATIVE.match(text):
                try:
                    delta = _duration(match.group(3))
                except ValueError as exc:
                    raise ValidationError(str(exc)) from None
                return ("relative", delta, -1 if match.group(2) == "-" else 1)
        try:
            return ("absolute", parse_instant(value), 1)
        except ValueError as exc:
            raise ValidationError(f"{exc}; or 'now', '-30m', '-2d'") from None


class Duration(fields.Field[Any]):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        try:
            parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return value


class Strict(Schema):
    class Meta:
        unknown = RAISE


# ---- schemas -----------------------------------------------------------------------------


class TransitionSpec(Strict):
    event = fields.String(required=True, validate=validate.Length(min=1))
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    guard = fields.String(load_default=None)
    timeout = Duration(load_default=None)


class MachineSpec(Strict):
    initial = fields.String(required=True)
    states = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Raw(), allow_none=True),
        required=True,
        validate=validate.Length(min=1),
    )
    transitions = fields.List(fields.Nested(TransitionSpec), load_default=list)
    query_after = Duration(load_default=None)


class FeeRuleSpec(Strict):
    percent = fields.Decimal(load_default=Decimal(0), validate=validate.Range(min=0, max=100))
    fixed = fields.Decimal(load_default=Decimal(0), validate=validate.Range(min=0))


# The fake payment app's URLs: one set per installation (``{installation}`` is the shop's
# domain), so it knows which shop a request is for without any header Genstore does not send.
BUILTIN_PSP_URLS = {
    "payment": "{sandbox}/psp/i/{installation}/payments",
    "offsite_payment": "{sandbox}/psp/i/{installation}/offsite_payments",
    "capture": "{sandbox}/psp/i/{installation}/captures",
    "void": "{sandbox}/psp/i/{installation}/voids",
    "refund": "{sandbox}/psp/i/{installation}/refunds",
    "get_payment": "{sandbox}/psp/i/{installation}/payment",
    "get_refund": "{sandbox}/psp/i/{installation}/refund",
    "launch": "{sandbox}/psp/launch",
}


def builtin_psp_urls(domain: str) -> dict[str, str]:
    """The fake app's URLs for its installation in the shop at ``domain``."""
    return {kind: url.replace("{installation}", domain) for kind, url in BUILTIN_PSP_URLS.items()}


class AppUrlsSpec(Strict):
    payment = fields.Url(require_tld=False, schemes={"http", "https"})
    offsite_payment = fields.Url(require_tld=False, schemes={"http", "https"})
    capture = fields.Url(require_tld=False, schemes={"http", "https"})
    void = fields.Url(require_tld=False, schemes={"http", "https"})
    refund = fields.Url(require_tld=False, schemes={"http", "https"})
    get_payment = fields.Url(require_tld=False, schemes={"http", "https"})
    get_refund = fields.Url(require_tld=False, schemes={"http", "https"})
    launch = fields.Url(require_tld=False, schemes={"http", "https"})


class AppSpec(Strict):
    name = fields.String(required=True, validate=validate.Regexp(SHOP_HANDLE))
    client_id = fields.String(load_default=None)
    client_secret = fields.String(load_default=None)
    scopes = fields.List(fields.String(), load_default=list)
    activated = fields.Boolean(load_default=False)
    # The sandbox's own fake payment app: its URLs and the shipped test key by default.
    builtin_psp = fields.Boolean(load_default=False)
    urls = fields.Nested(AppUrlsSpec, load_default=dict)
    public_key = fields.String(load_default=None)
    # How the app reads manualCapture (see the README's "Where Genstore's documentation is
    # ambiguous"): "published" (seed 001's text) or "by_name".
    capture_flag = fields.String(
        load_default="published", validate=validate.OneOf(list(CAPTURE_FLAG_READINGS))
    )
    # How the platform asks it Get payment / Get refund: "query" or "body" (seed 001's example).
    status_query = fields.String(
        load_default="query", validate=validate.OneOf(list(STATUS_QUERY_FORMS))
    )

    @validates_schema
    def _key(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("public_key"):
            try:
                crypto.load_public_key(data["public_key"])
            except crypto.CryptoError as exc:
                raise ValidationError(str(exc), "public_key") from None


class TokenSpec(Strict):
    token = fields.String(required=True, validate=validate.Length(min=8, max=200))
    app = fields.String(load_default=None)
    scopes = fields.List(fields.String(), required=True)
    expires_at = When(load_default=None)
    revoked_at = When(load_default=None)
    user_id = digits.Integer(load_default=None)


class ResultSpec(Strict):
    """The result an app reported (first result final): snapshots keep it."""

    result = fields.Boolean(required=True)
    reason = fields.String(load_default=None, allow_none=True)
    channel_id = fields.String(load_default=None, allow_none=True)
    received_at = When(load_default=("relative", parse_duration(0), 1))


class WebhookSpec(Strict):
    app = fields.String(required=True)
    address = fields.String(required=True, validate=single_line())
    topic = fields.String(required=True)
    failures = digits.Integer(load_default=0)
    disabled_at = When(load_default=None)


class MethodSpec(Strict):
    gateway = fields.String(load_default="sandbox")
    id = digits.Integer(load_default=1)
    name = fields.String(load_default="Sandbox card")
    pay_type = fields.String(load_default="credit_card")
    payment_method_type = fields.String(
        load_default="online", validate=validate.OneOf(["online", "offline"])
    )


# Built once: a payment without a method gets a copy (a schema per payment would cost more
# than the rest of its validation).
_DEFAULT_METHOD = MethodSpec().load({})


class CaptureSpec(Strict):
    capture_id = fields.String(required=True)
    amount = Amount(required=True)
    state = fields.String(required=True)
    channel_capture_id = fields.String(load_default=None)
    created_at = When(load_default=("relative", parse_duration(0), 1))
    result = fields.Nested(ResultSpec, load_default=None)


class VoidSpec(Strict):
    void_id = fields.String(required=True)
    state = fields.String(required=True)
    channel_void_id = fields.String(load_default=None)
    created_at = When(load_default=("relative", parse_duration(0), 1))
    result = fields.Nested(ResultSpec, load_default=None)


class RefundSpec(Strict):
    refund_id = fields.String(required=True)
    amount = Amount(required=True)
    state = fields.String(required=True)
    channel_refund_id = fields.String(load_default=None)
    created_at = When(load_default=("relative", parse_duration(0), 1))
    result = fields.Nested(ResultSpec, load_default=None)


class PaymentSpec(Strict):
    payment_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    id = digits.Integer(load_default=None, validate=validate.Range(min=1))
    amount = Amount(required=True)
    currency = fields.String(load_default=None)
    state = fields.String(required=True)
    manual_capture = fields.Boolean(load_default=False)
    test = fields.Boolean(load_default=True)
    app = fields.String(load_default=None)
    channel_payment_id = fields.String(load_default=None)
    created_at = When(load_default=("relative", parse_duration(0), 1))
    state_entered_at = When(load_default=None)
    paid_at = When(load_default=None)
    captured_amount = Amount(load_default=None)
    refunded_amount = Amount(load_default=None)
    method = fields.Nested(MethodSpec, load_default=lambda: dict(_DEFAULT_METHOD))
    bank_code = fields.String(load_default="")
    pay_by_other = fields.Boolean(load_default=False)
    captures = fields.List(fields.Nested(CaptureSpec), load_default=list)
    voids = fields.List(fields.Nested(VoidSpec), load_default=list)
    refunds = fields.List(fields.Nested(RefundSpec), load_default=list)
    kind = fields.String(load_default="card", validate=validate.OneOf(["card", "offsite"]))
    card_last4 = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{4}$"))
    app_answer = fields.Dict(load_default=None)
    result = fields.Nested(ResultSpec, load_default=None)


class OrderSpec(Strict):
    id = digits.Integer(required=True, validate=validate.Range(min=1))
    order_no = fields.String(load_default=None)
    created_at = When(load_default=("relative", parse_duration(0), 1))
    payments = fields.List(fields.Nested(PaymentSpec), load_default=list)


class RateLimitSpec(Strict):
    enabled = fields.Boolean(load_default=True)
    size = digits.Integer(load_default=40, validate=validate.Range(min=1, max=100000))
    per_second = digits.Float(load_default=2.0, validate=validate.Range(min=0.001, max=100000))


class ShopSpec(Strict):
    handle = fields.String(required=True, validate=validate.Regexp(SHOP_HANDLE))
    name = fields.String(load_default=None)
    domain = fields.String(load_default=None)
    utc_offset = fields.String(load_default="+00:00")
    currency = fields.String(load_default="USD")
    fee_rule = fields.String(load_default=None)
    # Genstore's limit: a bucket of 40 requests per app per shop, refilled at 2 per second.
    rate_limit = fields.Nested(RateLimitSpec, load_default=lambda: RateLimitSpec().load({}))
    # Sandbox extensions, off by default: send X-Genstore-Shop-Domain with every request to an
    # app (not in Genstore's docs); treat an app's non-conforming answer as a failed request.
    shop_domain_header = fields.Boolean(load_default=False)
    strict = fields.Boolean(load_default=False)
    # The shape of its payment requests (platform/shapes.py): example, minimal, full, varied.
    request_shape = fields.String(
        load_default="example", validate=validate.OneOf(list(REQUEST_SHAPES))
    )
    apps = fields.List(fields.Nested(AppSpec), load_default=list)
    tokens = fields.List(fields.Nested(TokenSpec), load_default=list)
    orders = fields.List(fields.Nested(OrderSpec), load_default=list)
    webhooks = fields.List(fields.Nested(WebhookSpec), load_default=list)

    @validates_schema
    def _offset(self, data: dict[str, Any], **kwargs: Any) -> None:
        try:
            parse_offset(data["utc_offset"])
        except ValueError as exc:
            raise ValidationError(str(exc), "utc_offset") from None


class MagicMatchSpec(Strict):
    card = fields.String(validate=validate.Regexp(r"^[0-9]{12,19}$"))
    holder = fields.String(validate=validate.Length(min=1))
    amount = fields.List(Amount(), validate=validate.Length(equal=2))
    luhn = fields.String(validate=validate.OneOf(["invalid"]))

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len(data) != 1:
            raise ValidationError("match exactly one of: card, holder, amount, luhn")


class MagicSpec(Strict):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]+$"))
    description = fields.String(load_default="")
    match = fields.Nested(MagicMatchSpec, required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(magic.OUTCOMES))
    reason = fields.String(load_default=None)
    delay = Duration(load_default=0)
    callback_failures = digits.Integer(load_default=0, validate=validate.Range(min=0, max=20))


class PspSpec(Strict):
    """The fake payment app's own records, as snapshots export them (rows of its tables)."""

    installations = fields.List(fields.Dict(), load_default=list)
    payments = fields.List(fields.Dict(), load_default=list)
    operations = fields.List(fields.Dict(), load_default=list)


class DocumentSpec(Strict):
    machines = fields.Dict(keys=fields.String(), values=fields.Nested(MachineSpec))
    fee_rules = fields.Dict(keys=fields.String(), values=fields.Nested(FeeRuleSpec))
    shops = fields.List(fields.Nested(ShopSpec))
    magic = fields.List(fields.Nested(MagicSpec))
    psp = fields.Nested(PspSpec)


# ---- the loaded result -------------------------------------------------------------------


@dataclass
class Fixtures:
    machines: dict[str, Machine]
    fee_rules: dict[str, money.FeeRule]
    shops: list[dict[str, Any]]
    magic: list[Magic] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)
    psp: dict[str, Iterable[dict[str, Any]]] = field(default_factory=dict)

    def shop(self, handle: str) -> dict[str, Any] | None:
        return next((s for s in self.shops if s["handle"] == handle), None)

    def summary(self) -> str:
        orders = sum(len(s["orders"]) for s in self.shops)
        payments = sum(payment_count(s) for s in self.shops)
        counts = (
            (len(self.machines), "state machine"), (len(self.fee_rules), "fee rule"),
            (len(self.shops), "shop"), (orders, "order"), (payments, "payment"),
            (len(self.magic), "magic value"),
        )  # fmt: skip
        return ", ".join(f"{n} {name}{'' if n == 1 else 's'}" for n, name in counts)

    def magic_named(self, name: str) -> Magic | None:
        return next((m for m in self.magic if m.name == name), None)


def payment_count(template: dict[str, Any]) -> int:
    """A shop template's payments (counted once when its orders were put in the store)."""
    if "payment_count" in template:
        return int(template["payment_count"])
    return sum(len(order["payments"]) for order in template["orders"])


def load_fixtures(path: Path, defaults: Path | None = None) -> Fixtures:
    """Load ``path`` (a directory or a file); sections it lacks come from ``defaults``."""
    documents = _read_documents(path)
    sections: dict[str, tuple[Path, Any]] = {}
    problems: list[str] = []
    for file, document in documents:
        for key, value in document.items():
            if key in sections:
                problems.append(f"{file}: {key}: also declared in {sections[key][0]}")
            else:
                sections[key] = (file, value)
    if problems:
        raise FixtureError(problems)
    if defaults is not None and Path(defaults).resolve() != Path(path).resolve():
        missing = [s for s in SECTIONS if s not in sections]
        if missing:
            for file, document in _read_documents(defaults):
                for key in missing:
                    if key in document:
                        sections[key] = (file, document[key])
    return _build(sections)


def fixture_files(path: Path) -> list[Path]:
    """The files a fixtures path stands for: the file itself, or a directory's fixture files."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        if not files:
            raise FixtureError([f"{path}: no *.yaml or *.json files in this directory"])
        return files
    if path.is_file():
        return [path]
    raise FixtureError([f"{path}: no such file or directory"])


def source_digest(path: Path, defaults: Path | None, code: Iterable[Path] = ()) -> str:
    """A digest of every file ``load_fixtures(path, defaults)`` may read, and of ``code``:
    equal digests, equal fixtures (``serve`` skips parsing fixtures it has already loaded)."""
    digest = hashlib.sha256()
    sources = fixture_files(path) + (fixture_files(defaults) if defaults is not None else [])
    for file in [*sources, *code]:
        digest.update(str(file.resolve()).encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def _parse(file: Path) -> Any:
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".json" or text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except ValueError:
            pass  # not JSON after all (or a key twice): YAML reads it, or says where it is wrong
    return yaml.load(text, Loader=_Loader)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise ValueError("a key is given twice")
    return mapping


def _read_documents(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    documents = []
    for file in fixture_files(path):
        try:
            document = _parse(file)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise FixtureError([f"{file}{where}: not valid YAML: {problem}"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise FixtureError([f"{file}: cannot be read: {exc}"]) from None
        if document is None:
            document = {}
        if not isinstance(document, dict):
            raise FixtureError([f"{file}: the top level must be a mapping of sections"])
        unknown = [k for k in document if k not in SECTIONS]
        if unknown:
            raise FixtureError(
                [
                    f"{file}: {k} (line {_line_of(file, [k])}): unknown section "
                    f"(known: {', '.join(SECTIONS)})"
                    for k in unknown
                ]
            )
        documents.append((file, document))
    return documents


def _build(sections: Mapping[str, tuple[Path, Any]]) -> Fixtures:
    problems: list[str] = []
    loaded: dict[str, Any] = {}
    for key, (file, value) in sections.items():
        try:
            loaded[key] = DocumentSpec().load({key: value})[key]
        except ValidationError as exc:
            problems.extend(_describe(file, list(_flatten(exc.messages))))
    if problems:
        raise FixtureError(problems)
    for key in ("machines", "shops"):
        if key not in sections:
            raise FixtureError([f"fixtures: section '{key}' is missing and no default applies"])
    machines_file = sections["machines"][0]
    try:
        machines = build_machines(loaded["machines"])
    except MachineError as exc:
        parts = ["machines", *_split(exc.path)]
        line = _line_of(machines_file, parts)
        raise FixtureError(
            [f"{machines_file}: {_join(parts)} (line {line}): {exc.message}"]
        ) from None
    fee_rules = {
        name: money.FeeRule(r["percent"], r["fixed"])
        for name, r in loaded.get("fee_rules", {}).items()
    }
    shops_file = sections["shops"][0]
    problems = [
        f"{shops_file}: {_join(parts)} (line {_line_of(shops_file, parts)}): {message}"
        for parts, message in _cross_check(loaded["shops"], machines, fee_rules)
    ]
    if problems:
        raise FixtureError(problems)
    catalogue, magic_problems = _magic(loaded.get("magic", []))
    if magic_problems:
        file = sections["magic"][0]
        raise FixtureError(
            [f"{file}: {_join(p)} (line {_line_of(file, p)}): {m}" for p, m in magic_problems]
        )
    sources = {key: file for key, (file, _) in sections.items()}
    return Fixtures(machines, fee_rules, loaded["shops"], catalogue, sources, loaded.get("psp", {}))


def _magic(entries: list[dict[str, Any]]) -> tuple[list[magic.Magic], list[tuple[list[Any], str]]]:
    catalogue, problems, names = [], [], set()
    for index, entry in enumerate(entries):
        if entry["name"] in names:
            problems.append((["magic", index, "name"], f"duplicate name '{entry['name']}'"))
        names.add(entry["name"])
        if entry["outcome"] == "decline" and not entry["reason"]:
            problems.append((["magic", index, "reason"], "a decline needs a reason"))
        match = entry["match"]
        amount = match.get("amount") or [None, None]
        catalogue.append(
            magic.Magic(
                name=entry["name"],
                description=entry["description"],
                outcome=entry["outcome"],
                reason=entry["reason"],
                card=match.get("card"),
                holder=match.get("holder"),
                amount_from=amount[0],
                amount_to=amount[1],
                luhn_invalid="luhn" in match,
                delay=parse_duration(entry["delay"]),
                callback_failures=entry["callback_failures"],
            )
        )
    return catalogue, problems


def _cross_check(
    shops: list[dict[str, Any]],
    machines: dict[str, Machine],
    fee_rules: dict[str, money.FeeRule],
) -> Iterable[tuple[list[Any], str]]:
    """What schemas cannot see: references, uniqueness, states, amounts per currency."""
    handles: set[str] = set()
    tokens: set[str] = set()
    for si, shop in enumerate(shops):
        at = ["shops", si]
        if shop["handle"] in handles:
            yield [*at, "handle"], f"duplicate shop handle '{shop['handle']}'"
        handles.add(shop["handle"])
        try:
            money.check_currency(shop["currency"])
        except ValueError as exc:
            yield [*at, "currency"], str(exc)
        if shop["fee_rule"] is not None and shop["fee_rule"] not in fee_rules:
            yield [*at, "fee_rule"], f"unknown fee rule '{shop['fee_rule']}'"
        app_names = [a["name"] for a in shop["apps"]]
        for ai, name in enumerate(app_names):
            if app_names.index(name) != ai:
                yield [*at, "apps", ai, "name"], f"duplicate app name '{name}'"
        for ti, token in enumerate(shop["tokens"]):
            if token["token"] in tokens:
                yield [*at, "tokens", ti, "token"], "duplicate token"
            tokens.add(token["token"])
            if token["app"] is not None and token["app"] not in app_names:
                yield [*at, "tokens", ti, "app"], f"unknown app '{token['app']}'"
        for wi, hook in enumerate(shop["webhooks"]):
            if hook["app"] not in app_names:
                yield [*at, "webhooks", wi, "app"], f"unknown app '{hook['app']}'"
        yield from _check_orders(at, shop, app_names, machines)


def _check_orders(
    at: list[Any], shop: dict[str, Any], app_names: Iterable[str], machines: dict[str, Machine]
) -> Iterable[tuple[list[Any], str]]:
    order_ids: set[int] = set()
    payment_ids: set[str] = set()
    legacy_ids: set[int] = set()
    child_ids: dict[str, set[str]] = {"capture": set(), "void": set(), "refund": set()}
    for oi, order in enumerate(shop["orders"]):
        o_at = [*at, "orders", oi]
        if order["id"] in order_ids:
            yield [*o_at, "id"], f"duplicate order id {order['id']}"
        order_ids.add(order["id"])
        paid = 0
        for pi, payment in enumerate(order["payments"]):
            p_at = [*o_at, "payments", pi]
            currency = payment["currency"] or shop["currency"]
            if payment["payment_id"] in payment_ids:
                yield [*p_at, "payment_id"], f"duplicate payment id '{payment['payment_id']}'"
            payment_ids.add(payment["payment_id"])
            if payment["id"] is not None:
                if payment["id"] in legacy_ids:
                    yield [*p_at, "id"], f"duplicate payment id {payment['id']}"
                legacy_ids.add(payment["id"])
            try:
                money.check_currency(currency)
                for key in ("amount", "captured_amount", "refunded_amount"):
                    if payment[key] is not None:
                        money.parse_amount(payment[key], currency, allow_zero=key != "amount")
            except ValueError as exc:
                yield [*p_at, "amount"], str(exc)
            if payment["app"] is not None and payment["app"] not in app_names:
                yield [*p_at, "app"], f"unknown app '{payment['app']}'"
            machine = machines["payment"]
            if payment["state"] not in machine.states:
                yield [*p_at, "state"], _unknown_state("payment", payment["state"], machine)
            elif machine.view(payment["state"], "legacy_status") == "paid":
                paid += 1
                if paid > 1:
                    yield [*p_at, "state"], "only one payment per order can be paid (available)"
            for kind, key in (("capture", "captures"), ("void", "voids"), ("refund", "refunds")):
                for ci, child in enumerate(payment[key]):
                    c_at = [*p_at, key, ci]
                    child_id = child[f"{kind}_id"]
                    if child_id in child_ids[kind]:
                        yield [*c_at, f"{kind}_id"], f"duplicate {kind} id '{child_id}'"
                    child_ids[kind].add(child_id)
                    if child["state"] not in machines[kind].states:
                        yield [*c_at, "state"], _unknown_state(kind, child["state"], machines[kind])


def _unknown_state(kind: str, state: str, machine: Machine) -> str:
    return f"unknown {kind} state '{state}' (known: {', '.join(machine.states)})"


# ---- error locations ---------------------------------------------------------------------


def _flatten(messages: Any, parts: list[Any] | None = None) -> Iterable[tuple[list[Any], str]]:
    parts = parts or []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                yield from _flatten(value, parts)
            elif isinstance(value, dict) and set(value) <= {"key", "value"} and value:
                # marshmallow's Dict errors: {"name": {"value": {...}}}
                yield from _flatten(value.get("value", value.get("key")), [*parts, key])
            else:
                yield from _flatten(value, [*parts, key])
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, parts)
    else:
        message = str(messages)
        if message == "Unknown field.":
            message = "unknown key (check its spelling)"
        yield parts, message


def _describe(file: Path, items: list[tuple[list[Any], str]]) -> list[str]:
    return [f"{file}: {_join(parts)} (line {_line_of(file, parts)}): {msg}" for parts, msg in items]


def _join(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _split(dotted: str) -> list[Any]:
    parts: list[Any] = []
    for piece in dotted.split("."):
        name, *indexes = piece.replace("]", "").split("[")
        parts.append(name)
        parts.extend(int(i) for i in indexes)
    return parts


def _line_of(file: Path, parts: list[Any]) -> int:
    """The line of the deepest node of ``parts`` that exists in the file."""
    try:
        node = yaml.compose(Path(file).read_text(encoding="utf-8"), Loader=_Loader)
    except (yaml.YAMLError, OSError):
        return 1
    line = 1
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def resolve_when(value: tuple[Any, ...], now: datetime) -> datetime:
    """A :class:`When` value to an instant, relative ones against ``now``."""
    kind, amount, sign = value
    moment: datetime = amount if kind == "absolute" else now + sign * amount
    return moment
