"""The browser the dashboard test drives: Debian's Chromium, installed when missing.

``python -m tests.browser.chromium`` (what ``make test`` runs first) finds it, or installs it
with apt-get (as root, as this project's machines and CI run); with ``CI=true`` a browser
that cannot be had fails the run rather than skipping the test.
"""

from __future__ import annotations

import shutil
import sys

from sandbox.testing.debian import apt_install, verdict

NAMES = ("chromium", "chromium-browser", "google-chrome")


def find() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def ensure() -> str | None:
    """The browser's path, installing Debian's chromium if it is missing and we may."""
    found = find()
    if not found:
        apt_install("chromium")
        found = find()
    return found


def main() -> int:
    return verdict(
        ensure(), "the dashboard's browser test needs Chromium: apt-get install chromium"
    )


if __name__ == "__main__":
    sys.exit(main())
