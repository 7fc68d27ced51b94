"""Every setting in one typed dataclass.

Values come from defaults, then environment variables ``GENSTORE_SANDBOX_<NAME>``, then CLI
flags (the CLI passes them to :meth:`Settings.from_env` as overrides).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "GENSTORE_SANDBOX_"
# Read by serve (the token it requires) and by every client of the control API (the one sent).
CONTROL_TOKEN_ENV = ENV_PREFIX + "CONTROL_TOKEN"


def default_fixtures_dir() -> Path:
    """The fixtures shipped with the sandbox: the repo's ``fixtures/`` or the wheel's copy."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "_fixtures", package_dir.parent / "fixtures"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the default fixtures directory is missing from this installation")


WORKER_CLASSES = ("gthread", "sync")
MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """Two worker processes per CPU, between 2 and 8."""
    return min(max(2 * (os.cpu_count() or 1), 2), MAX_DEFAULT_WORKERS)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Chosen by make bench on the 2-core reference machine (docs/architecture.md, "Server
    # settings"): two single-threaded-ish processes per core beat fewer, busier ones.
    workers: int = field(default_factory=lambda: default_workers())
    threads: int = 2
    # gunicorn's worker class: "gthread" (threads per worker, keep-alive) or "sync" (one
    # request at a time per worker, no keep-alive). make bench compares them.
    worker_class: str = "gthread"
    fixtures: Path = field(default_factory=default_fixtures_dir)
    data_dir: Path = Path(".sandbox-data")
    # The store: a SQLite file's path (overriding data_dir; ":memory:" is refused, workers
    # must share the file), or a postgresql:// URL that several instances may share.
    database: str | None = None
    max_body_bytes: int = 1024 * 1024
    # Extra `info` bytes for GENSTORE-V1's HKDF (the public docs are silent; empty by default).
    hkdf_info: str = ""
    log_level: str = "info"
    # The URL this sandbox is reached at (what its own pages and callbacks use); by default
    # http://{host}:{port}, with 127.0.0.1 for a wildcard host.
    public_url: str | None = None
    # The fake payment app's private key (PKCS#8 PEM); the shipped test key by default.
    psp_private_key: Path | None = None
    outbox_timeout: int = 10
    outbox_max_attempts: int = 8
    # Each retry waits up to this fraction longer than its backoff (spread per message), so
    # messages that failed together do not come back together; 0 gives exact doubling.
    outbox_jitter: float = 0.5
    # Finished outbox messages are kept this long on the sandbox clock ("90s", "15m", "48h",
    # "2d"), and at most outbox_keep of them, so a long run's store stays bounded.
    outbox_retention: str = "1h"
    outbox_keep: int = 10000
    # Delivering threads per worker process: a slow app holds up one, not the outbox.
    outbox_senders: int = 2
    # The journal keeps this many exchanges; the oldest go first. "off" stops inbound
    # journaling (outbound attempts are always kept): it costs the read path about a third.
    journal_max_entries: int = 10000
    journal: str = "on"
    # "off" (serve --quiet): no line per exchange on the terminal.
    request_log: str = "on"
    # Makes generated ids and probabilistic faults repeat run to run.
    seed: int | None = None
    # When set, every /_sandbox call must present it (Authorization: Bearer ...).
    control_token: str | None = None
    # Host names, comma-separated, that may reach /_sandbox besides loopback names, the bound
    # address and the public URL's host ("*": any).
    allowed_hosts: str = ""
    # "off" lifts every shop's rate limit (load tests); "on" applies each shop's fixture.
    rate_limit: str = "on"

    @property
    def store_location(self) -> str:
        """A postgresql:// URL, or the SQLite file's path."""
        return self.database or str(self.data_dir / "sandbox.sqlite3")

    @property
    def self_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def psp_private_key_path(self) -> Path:
        return self.psp_private_key or (default_fixtures_dir() / "keys" / "sandbox-psp.private.pem")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from the environment, then apply non-None overrides."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("fixtures", "data_dir", "psp_private_key"):
            if key in values and not isinstance(values[key], Path):
                values[key] = Path(str(values[key]))
        if "database" in values:
            values["database"] = str(values["database"]) or None
        return cls(**values)  # type: ignore[arg-type]


def _coerce(name: str, type_name: object, raw: str) -> object:
    kind = str(type_name)
    if kind.startswith("int"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(
                f"{ENV_PREFIX}{name.upper()} must be an integer, got {raw!r}"
            ) from None
    if kind.startswith("float"):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a number, got {raw!r}") from None
    if "Path" in kind:
        return Path(raw)
    return raw
