"""The pytest plugin, as a user's suite runs it (pytester)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.conftest import FIXTURES, ROOT

pytest_plugins = ["pytester"]


def _readme_example() -> str:
    """The README's pytest example, exactly as written there."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- pytest-example -->\n```python\n(.*?)```", text, re.S)
    assert match, "the README lost its pytest example"
    return match.group(1)


def test_the_readme_example_passes_against_a_running_sandbox(pytester, live):
    pytester.makepyfile(test_readme=_readme_example())
    result = pytester.runpytest("--genstore-sandbox-url", live.url, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_helpers_fail_with_what_happened(pytester, live):
    pytester.makepyfile(
        test_failing="""
def test_a_decline_is_not_paid(shop):
    payment_id = shop.checkout(card="4000000000000002")
    shop.wait_for(payment_id, "paid")
"""
    )
    result = pytester.runpytest("--genstore-sandbox-url", live.url, "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: payment PI* is failed, not paid*"])


def test_each_test_gets_its_own_shop_and_clock(pytester, live):
    pytester.makepyfile(
        test_isolation="""
import pytest

seen = []


@pytest.mark.parametrize("run", [1, 2])
def test_fresh(shop, run):
    seen.append((shop.handle, shop.now()))
    shop.advance("1d")
    assert len({handle for handle, _ in seen}) == run


@pytest.mark.genstore_shop(strict=True, shopDomainHeader=True)
def test_marked(shop):
    described = shop.sandbox.control("GET", f"/shops/{shop.handle}").json()
    assert described["strict"] and described["shopDomainHeader"]
"""
    )
    result = pytester.runpytest("--genstore-sandbox-url", live.url, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_without_a_url_it_starts_a_sandbox_with_your_fixtures(pytester, tmp_path, monkeypatch):
    monkeypatch.delenv("GENSTORE_SANDBOX_URL", raising=False)
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures)
    default = fixtures / "default.yaml"
    default.write_text(default.read_text().replace("handle: demo\n", "handle: acme\n", 1))
    pytester.makepyfile(
        test_own="""
import pytest


@pytest.mark.genstore_shop(template="acme")
def test_from_my_fixtures(shop):
    assert shop.handle.startswith("acme-")
    payment_id = shop.checkout(amount="12.00")
    assert shop.wait_for(payment_id, "paid")["amount"] == "12.00"
"""
    )
    result = pytester.runpytest(
        "--genstore-sandbox-fixtures", str(Path(fixtures)), "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)


def test_each_tests_shop_is_deleted_when_it_ends_unless_kept(pytester, live):
    pytester.makepyfile(
        test_shops="""
def test_one(shop):
    with open("handles.txt", "a") as out:
        out.write(shop.handle + "\\n")
    shop.wait_for(shop.checkout(amount="5.00"), "paid")
"""
    )
    for extra in ((), ("--genstore-sandbox-keep-shops",)):
        result = pytester.runpytest(
            "--genstore-sandbox-url", live.url, "-p", "no:cacheprovider", *extra
        )
        result.assert_outcomes(passed=1)
    deleted, kept = (pytester.path / "handles.txt").read_text().split()
    assert live.control("GET", f"/shops/{deleted}").status_code == 404
    assert live.control("GET", f"/shops/{kept}").status_code == 200
    # The CLI deletes one too, with everything it holds (its journal included).
    from tests.e2e.test_cli import run

    gone = run("shops", "delete", kept, "--url", live.url)
    assert gone.returncode == 0 and f"deleted {kept}" in gone.stdout
    assert live.control("GET", "/journal", params={"shop": kept}).status_code == 404
    assert run("shops", "delete", kept, "--url", live.url).returncode == 1
    unknown = live.control("DELETE", f"/shops/{kept}")
    assert unknown.status_code == 404 and kept in unknown.json()["error"]
    listed = run("shops", "--url", live.url)
    assert listed.returncode == 0 and "demo" in listed.stdout and kept not in listed.stdout
