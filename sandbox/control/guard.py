"""Who may drive the control API (``/_sandbox``).

The control API resets shops, moves clocks, arms faults and lists every token, so a web page
open in the developer's browser must not reach it. Three checks, cheapest first:

- the ``Host`` is a loopback name, the address the sandbox is bound to, its public URL's host,
  or one the operator allowed: a DNS-rebinding page arrives under its own name and is refused;
- with a control token configured, every call presents it (``Authorization: Bearer ...``);
- a call that changes state declares a JSON (or, for snapshots, YAML) body: a page can send
  ``text/plain`` or a form without a CORS preflight, but not ``application/json``.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sandbox.errors import Forbidden, Unauthorized, UnsupportedMediaType
from sandbox.settings import CONTROL_TOKEN_ENV

WILDCARD_HOSTS = ("", "0.0.0.0", "::")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a change may be sent as; none of them is a type a page may send without a preflight.
BODY_TYPES = frozenset({"application/json", "application/yaml", "application/x-yaml", "text/yaml"})


def host_name(host_header: str) -> str:
    """``Host`` without its port, lower case: ``[::1]:8080`` -> ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ControlGuard:
    """``allowed_hosts`` besides the loopback names (``*``: any); ``token`` None: no token."""

    allowed_hosts: frozenset[str]
    token: str | None = None

    @classmethod
    def configure(
        cls, bound_host: str, public_url: str | None, extra_hosts: Iterable[str], token: str | None
    ) -> ControlGuard:
        hosts = {host_name(h) for h in extra_hosts if h.strip()}
        if bound_host not in WILDCARD_HOSTS:
            hosts.add(host_name(bound_host))
        if public_url:
            hosts.add(host_name(urlsplit(public_url).netloc))
        return cls(frozenset(hosts), token or None)

    def host_allowed(self, host_header: str) -> bool:
        name = host_name(host_header)
        return "*" in self.allowed_hosts or is_loopback(name) or name in self.allowed_hosts

    def check(
        self, method: str, host_header: str, content_type: str | None, authorization: str | None
    ) -> None:
        """Raise the refusal of a control call, if it is refused."""
        self.check_host(host_header)
        if self.token is not None:
            scheme, _, presented = (authorization or "").strip().partition(" ")
            if scheme.lower() != "bearer":  # the scheme is case-insensitive (RFC 9110)
                presented = ""
            presented = presented.strip()
            if not hmac.compare_digest(presented.encode(), self.token.encode()):
                raise Unauthorized(
                    "This sandbox requires its control token: send 'Authorization: Bearer "
                    f"<token>' (the CLI and the Python client read ${CONTROL_TOKEN_ENV})",
                    headers={"WWW-Authenticate": 'Bearer realm="genstore-sandbox control"'},
                )
        if method.upper() not in SAFE_METHODS:
            media = (content_type or "").split(";", 1)[0].strip().lower()
            if media not in BODY_TYPES:
                got = f"'{media}'" if media else "no Content-Type"
                raise UnsupportedMediaType(
                    f"A control call that changes state must be sent as application/json "
                    f"(got {got}), even with no body, or a snapshot as application/yaml: a web "
                    "page cannot send those without the browser asking first"
                )

    def check_host(self, host_header: str) -> None:
        if not self.host_allowed(host_header):
            name = host_name(host_header)
            raise Forbidden(
                f"Host '{name}' may not reach the control API: use a loopback address, or "
                f"allow it with --allowed-host {name} (GENSTORE_SANDBOX_ALLOWED_HOSTS)"
            )


def exposure_warning(bound_host: str, token: str | None) -> str | None:
    """What ``serve`` warns about: reachable beyond this machine with no control token."""
    if token or is_loopback(host_name(bound_host)):
        return None
    where = "every address" if bound_host in WILDCARD_HOSTS else bound_host
    return (
        f"warning: listening on {where} without a control token: anyone who can reach this "
        "port can reset the sandbox, move its clock and read every shop's tokens. Set "
        f"--control-token or ${CONTROL_TOKEN_ENV} (see README, Security)."
    )
