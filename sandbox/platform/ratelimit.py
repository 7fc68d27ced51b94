"""Genstore's rate limit: a token bucket per app per shop (40, refilled at 2 per second by
default), kept in the store so every worker draws from the same bucket, and refilled on the
sandbox clock so tests can empty it and advance time instead of sleeping."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox.core.clock import Clock
from sandbox.core.timefmt import from_storage, to_storage
from sandbox.errors import TooManyRequests
from sandbox.platform.auth import Principal
from sandbox.protocol import RATE_LIMIT_HEADER as HEADER
from sandbox.store import platform as rows
from sandbox.store.db import Database


@dataclass(frozen=True)
class Bucket:
    size: int
    per_second: float


class RateLimiter:
    def __init__(self, db: Database, clock: Clock, enabled: bool):
        self.db = db
        self.clock = clock
        self.enabled = enabled

    def take(self, principal: Principal) -> str | None:
        """Spend one request; the header value (``used/size``), or 429 when the bucket is
        empty. None when the shop has no limit."""
        if not self.enabled:
            return None
        bucket = self.db.memo(("bucket", principal.shop_id), lambda: self._bucket(principal))
        if bucket is None:
            return None
        client = f"app:{principal.app_id}" if principal.app_id else f"token:{principal.token}"
        now = self.clock.now(principal.shop_id)
        with self.db.write() as conn:
            stored = rows.load_bucket(conn, principal.shop_id, client)
            tokens = float(bucket.size)
            if stored is not None:
                left, counted_at = stored
                elapsed = max((now - from_storage(counted_at)).total_seconds(), 0.0)
                tokens = min(bucket.size, left + elapsed * bucket.per_second)
            allowed = tokens >= 1
            if allowed:
                tokens -= 1
            rows.save_bucket(conn, principal.shop_id, client, tokens, to_storage(now))
        used = bucket.size - math.floor(tokens)
        header = f"{used}/{bucket.size}"
        if not allowed:
            wait = (1 - tokens) / bucket.per_second
            raise TooManyRequests(
                f"Exceeded {bucket.per_second:g} calls per second for api client. "
                "Reduce request rates to resume uninterrupted service.",
                headers={HEADER: header, "Retry-After": str(max(1, math.ceil(wait)))},
            )
        return header

    def _bucket(self, principal: Principal) -> Bucket | None:
        shop = rows.load_shop(self.db.read(), principal.shop_id)
        if shop is None or shop.rate_size is None or shop.rate_per_second is None:
            return None
        return Bucket(shop.rate_size, shop.rate_per_second)
