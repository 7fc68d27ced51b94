"""Generated identifiers: tokens, secrets, Genstore-looking payment ids.

With a seed they repeat run to run (for deterministic tests); without one they come from the
operating system's randomness.
"""

from __future__ import annotations

import random
import secrets
import string
import threading
from collections.abc import Sequence
from datetime import datetime

_ALPHANUM = string.ascii_lowercase + string.digits


class Ids:
    def __init__(self, seed: int | None = None):
        self._random = random.Random(seed) if seed is not None else secrets.SystemRandom()
        self._lock = threading.Lock()

    def _chars(self, alphabet: str, length: int) -> str:
        with self._lock:
            return "".join(self._random.choice(alphabet) for _ in range(length))

    def token(self) -> str:
        return "gst_" + self._chars(_ALPHANUM, 32)

    def secret(self) -> str:
        return self._chars(_ALPHANUM, 40)

    def suffix(self, length: int = 6) -> str:
        return self._chars(_ALPHANUM, length)

    def pick(self, options: Sequence[str]) -> str:
        """One of ``options``: repeatable run to run with a seed, like every id."""
        with self._lock:
            return self._random.choice(options)

    def numbered(self, prefix: str, now: datetime) -> str:
        """``PI00`` + timestamp + random digits, the shape of the seeds' ids."""
        return f"{prefix}00{now:%Y%m%d%H%M%S}{self._chars(string.digits, 6)}"
