"""The interactive API docs in a real browser: Swagger UI from assets the package ships (no
network), the three documents, and "Try it out" answered by this sandbox with a shop's
access token."""

from __future__ import annotations

import pytest

from tests.browser.test_dashboard import browser, sandbox  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.e2e
STEP = 15_000
READ_TOKEN = "gst_demo_merchant_read"  # the demo shop's transactions reader (fixtures)


def test_try_it_out_with_an_access_token(browser, sandbox):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(sandbox.url + "/docs?api=Genstore%20platform%20API")
    expect(page.locator(".opblock-summary-path", has_text="/api/202412/payment/{paymentId}"))\
        .to_be_visible(timeout=STEP)  # fmt: skip
    # Authorize with the shop's token: Swagger UI sends it as X-Genstore-Access-Token.
    page.click("button.authorize")
    page.locator(".auth-container", has_text="accessToken").locator("input").fill(READ_TOKEN)
    page.locator(".auth-container", has_text="accessToken").locator("button.authorize").click()
    page.click("button.btn-done")
    operation = page.locator(".opblock", has=page.locator(
        ".opblock-summary-path", has_text="/api/202412/payment/{paymentId}"))  # fmt: skip
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("input[placeholder='paymentId']").fill("PI0020261101000000001")
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200", timeout=STEP)
    expect(operation.locator(".live-responses-table")).to_contain_text("channelTrxNo")
    assert all(url.startswith(sandbox.url) for url in requested), requested  # nothing else
    assert problems == []
