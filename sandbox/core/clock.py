"""The sandbox clock: real time by default, frozen and advanced on demand.

The state is two values (a frozen instant, or an offset from real time) so it can live in the
store and be shared by every worker process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClockState:
    frozen_at: datetime | None = None
    offset: timedelta = timedelta(0)

    def now(self, real: datetime | None = None) -> datetime:
        if self.frozen_at is not None:
            return self.frozen_at
        return (real or real_now()) + self.offset

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def freeze(self, real: datetime | None = None) -> ClockState:
        return replace(self, frozen_at=self.now(real))

    def unfreeze(self, real: datetime | None = None) -> ClockState:
        """Run again from where the clock stands (time does not jump back)."""
        current = self.now(real)
        return ClockState(frozen_at=None, offset=current - (real or real_now()))

    def advance(self, by: timedelta) -> ClockState:
        if self.frozen_at is not None:
            return replace(self, frozen_at=self.frozen_at + by)
        return replace(self, offset=self.offset + by)

    def set(self, to: datetime, real: datetime | None = None) -> ClockState:
        if self.frozen_at is not None:
            return replace(self, frozen_at=to)
        return replace(self, offset=to - (real or real_now()))


class Clock:
    """Reads the shared state on every call, so all workers agree on the time. Each shop may
    keep a clock of its own; a shop without one (and ``shop_id`` None) follows the global
    clock."""

    def __init__(self, load_state: Callable[[int | None], ClockState]):
        self._load_state = load_state

    def state(self, shop_id: int | None = None) -> ClockState:
        return self._load_state(shop_id)

    def now(self, shop_id: int | None = None) -> datetime:
        return self._load_state(shop_id).now()
