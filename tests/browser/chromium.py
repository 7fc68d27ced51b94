"""The browser the dashboard test drives: Debian's Chromium, installed when missing.

``python -m tests.browser.chromium`` (what ``make test`` runs first) finds it, or installs it
with apt-get (as root, as this project's machines and CI run); with ``CI=true`` a browser
that cannot be had fails the run rather than skipping the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

NAMES = ("chromium", "chromium-browser", "google-chrome")


def find() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def ensure() -> str | None:
    """The browser's path, installing Debian's chromium if it is missing and we may."""
    found = find()
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    print("chromium is missing: installing it from Debian's packages (apt-get install chromium)")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
    subprocess.run(["apt-get", "update", "-qq"], **quiet)  # type: ignore[call-overload]
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], **quiet)  # type: ignore[call-overload]
    return find()


def main() -> int:
    path = ensure()
    if path:
        return 0
    message = "the dashboard's browser test needs Chromium: apt-get install chromium"
    if os.environ.get("CI") == "true":
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(f"warning: {message} (the test will be skipped)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
