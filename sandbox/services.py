"""Every collaborator ``create_app`` builds, typed, for the control API, the CLI and tests.

The platform's and the fake app's handlers do not reach through this: each side has its own
accessor (``sandbox.platform.surface.surface``, ``sandbox.psp.routes.psp``), so neither side's
code can touch the other's services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from sandbox.control.guard import ControlGuard
    from sandbox.control.service import ControlService
    from sandbox.core.clock import Clock
    from sandbox.core.fixtures import Fixtures
    from sandbox.core.ids import Ids
    from sandbox.faults import Faults
    from sandbox.journal import Journal
    from sandbox.outbox import Outbox
    from sandbox.platform.checkout import CheckoutService
    from sandbox.platform.oauth import OAuthService
    from sandbox.platform.ratelimit import RateLimiter
    from sandbox.platform.service import PlatformService
    from sandbox.platform.webhooks import Webhooks
    from sandbox.psp.service import PspService
    from sandbox.settings import Settings
    from sandbox.store.db import Database

EXTENSION = "sandbox"


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    fixtures: Fixtures
    clock: Clock
    ids: Ids
    platform: PlatformService
    control: ControlService
    outbox: Outbox
    psp: PspService
    checkout: CheckoutService
    journal: Journal
    rate_limiter: RateLimiter
    oauth: OAuthService
    webhooks: Webhooks
    faults: Faults
    guard: ControlGuard


def services() -> Services:
    return cast(Services, current_app.extensions[EXTENSION])


def services_of(app: Flask) -> Services:
    return cast(Services, app.extensions[EXTENSION])
