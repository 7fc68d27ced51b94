"""The pytest plugin, active once genstore-sandbox is installed (a ``pytest11`` entry point).

Fixtures:

- ``genstore_sandbox`` (session): a live sandbox on a free port, started for the session and
  stopped after it; or the one already running at ``--genstore-sandbox-url`` (or
  ``$GENSTORE_SANDBOX_URL``). ``--genstore-sandbox-fixtures PATH`` starts it with your fixtures.
- ``shop`` (per test): a fresh, isolated shop with its own tokens, apps and frozen clock,
  deleted when the test ends (``--genstore-sandbox-keep-shops`` keeps it); see
  :class:`sandbox.testing.shop.SandboxShop` for its helpers. Mark a test
  ``@pytest.mark.genstore_shop(template="demo", strict=True, ...)`` to choose how its shop is
  made (any field of ``POST /_sandbox/shops``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.testing.live import LiveSandbox, Sandbox
from sandbox.testing.shop import SandboxShop

URL_ENV = "GENSTORE_SANDBOX_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("genstore-sandbox", "Genstore Sandbox")
    group.addoption(
        "--genstore-sandbox-url",
        default=None,
        help=f"use the sandbox running there (default ${URL_ENV}; else start one)",
    )
    group.addoption(
        "--genstore-sandbox-keep-shops",
        action="store_true",
        help="keep each test's shop when the test ends (to look at it); by default it is "
        "deleted with everything it holds",
    )
    group.addoption(
        "--genstore-sandbox-fixtures",
        default=None,
        type=Path,
        help="fixtures (a YAML file or directory) for the sandbox the plugin starts",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "genstore_shop(**fields): how the test's shop is made: template (a fixture shop to "
        "copy), strict, shopDomainHeader, rateLimit, ... (POST /_sandbox/shops)",
    )


@pytest.fixture(scope="session")
def genstore_sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sandbox]:
    url = request.config.getoption("--genstore-sandbox-url") or os.environ.get(URL_ENV)
    if url:
        sandbox = Sandbox(url)
        health = sandbox.control("GET", "/health")
        if not health.ok:
            pytest.exit(f"no Genstore Sandbox answers at {url}", returncode=3)
        yield sandbox
        return
    fixtures = request.config.getoption("--genstore-sandbox-fixtures")
    data_dir = tmp_path_factory.mktemp("genstore-sandbox")
    with LiveSandbox(data_dir=data_dir, fixtures=fixtures) as started:
        yield started


@pytest.fixture
def shop(genstore_sandbox: Sandbox, request: pytest.FixtureRequest) -> Iterator[SandboxShop]:
    """The test's own shop, deleted when the test ends (a sandbox a team's CI shares does not
    fill up with them) unless ``--genstore-sandbox-keep-shops``."""
    marker = request.node.get_closest_marker("genstore_shop")
    fields = dict(marker.kwargs) if marker is not None else {}
    made = SandboxShop(genstore_sandbox, genstore_sandbox.new_shop(**fields))
    yield made
    if not request.config.getoption("--genstore-sandbox-keep-shops"):
        genstore_sandbox.control("DELETE", f"/shops/{made.handle}")
