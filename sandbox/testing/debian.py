"""What the project's tests need from the machine (a browser, PostgreSQL): installed from
Debian's packages when missing and we are root, as this project's machines and CI run; with
``CI=true`` a tool that cannot be had fails the run rather than skipping its tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any


def apt_install(*packages: str) -> None:
    """``apt-get install`` the packages, quietly, when apt-get is here and we are root."""
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print(f"{', '.join(packages)} missing: installing from Debian's packages")
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, **quiet)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *packages],
        check=False,
        env=env,
        **quiet,
    )


def verdict(found: object, message: str) -> int:
    """The exit code of a ``python -m`` check that ``make test`` runs first: 0 when the tool
    is there; without it, 1 under CI=true, else a warning (its tests will skip) and 0."""
    if found:
        return 0
    if os.environ.get("CI") == "true":
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(f"warning: {message} (those tests will be skipped)", file=sys.stderr)
    return 0
