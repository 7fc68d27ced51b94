"""The dashboard and the API docs in a real browser (Debian's Chromium, driven by
Playwright): a 3-D Secure checkout passed on its page, half captured, refunded, and what the
dashboard shows at each step; "Try it out" in the API docs. Real HTTP to a live ``serve``;
every wait is on what the page shows, never a sleep."""

from __future__ import annotations

import os
import re

import pytest

from sandbox.testing.live import LiveSandbox
from tests.browser import chromium

pytestmark = pytest.mark.e2e
STEP = 15_000  # ms: a result travels app -> outbox -> platform in real time
READ_TOKEN = "gst_demo_merchant_read"  # the demo shop's transactions reader (fixtures)


@pytest.fixture(scope="module")
def browser():
    path = chromium.find()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing: make test installs it (tests/browser/chromium.py)")
        pytest.skip("Chromium is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with LiveSandbox(data_dir=tmp_path_factory.mktemp("dashboard"), workers=2) as live:
        yield live


def test_a_3ds_payment_through_capture_and_refund_as_the_dashboard_shows_it(
    browser, sandbox, tmp_path
):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(sandbox.url + "/_sandbox/ui")
    # The live list: the demo shop's fixture payments.
    expect(page.locator("#payments tr")).to_have_count(15)
    expect(page.locator("#payments")).to_contain_text("PI0020261101000000001")

    page.select_option("select[name=magic]", "three_ds_required")
    page.check("input[name=manualCapture]")
    page.click("#checkout button")
    expect(page).to_have_url(re.compile(r"#/payment/PI\w+$"))
    payment_id = page.url.rsplit("/", 1)[1]
    state = page.locator("#payment-state")
    expect(state).to_have_text("created")
    expect(page.locator("#operate")).to_be_hidden()  # the machine allows no action yet
    link = page.locator("#next-action-link")
    expect(link).to_have_text("Open the 3-D Secure page", timeout=STEP)
    expect(page.locator("#facts")).to_contain_text("···· ")
    expect(page.locator("#timeline a", has_text="open the 3-D Secure page")).to_have_count(1)

    with page.expect_popup() as opened:
        link.click()
    challenge = opened.value
    challenge.click("#pass")
    expect(challenge.locator("h1")).to_have_text("Back at the shop")  # redirected to the shop
    challenge.close()
    expect(state).to_have_text("authorized", timeout=STEP)
    expect(page.locator('#machine g.node.current[data-state="authorized"]')).to_have_count(1)
    _offered(page, {"captures", "voids"})
    # The timeline in the order things happened: the request, the callback it led to, then
    # the state that callback set.
    order = page.locator("#timeline li").evaluate_all(
        "items => items.map(i => i.dataset.type + ' ' + i.dataset.message)"
    )
    request = order.index("request app.payment")
    callback = next(i for i, text in enumerate(order) if text.startswith("callback"))
    assert request < callback < order.index("state authorized"), order

    page.fill("#operate input[name=amount]", "12.50")
    page.click("#operate button[value=captures]")
    expect(state).to_have_text("paid", timeout=STEP)
    facts = page.locator("#facts")
    expect(facts).to_contain_text("Captured12.50")
    _offered(page, {"refunds"})

    page.fill("#operate input[name=amount]", "")
    page.click("#operate button[value=refunds]")
    expect(state).to_have_text("refunded", timeout=STEP)
    expect(facts).to_contain_text("Refunded12.50")
    timeline = page.locator("#timeline")
    for seen in ("app.payment", "app.capture", "app.refund", "callback", "authorized", "refunded"):
        expect(timeline).to_contain_text(seen)
    expect(page.locator('#machine g.node.current[data-state="refunded"]')).to_have_count(1)
    expect(page.locator("#operate")).to_be_hidden()
    expect(page.locator("#no-action")).to_be_visible()
    # DASHBOARD_SCREENSHOT=docs/dashboard-payment.png refreshes the README's picture.
    shot = os.environ.get("DASHBOARD_SCREENSHOT") or str(tmp_path / "payment.png")
    page.screenshot(path=shot, full_page=True)

    # Back on the list, the payment shows its final state.
    page.click("text=← All payments")
    row = page.locator("#payments tr", has_text=payment_id)
    expect(row).to_contain_text("refunded")

    # The shop's contract coverage: what this payment exercised is covered.
    page.click("nav >> text=Coverage")
    expect(page.locator("#coverage-summary")).to_contain_text("% covered")
    for item in ("outcome.three_ds_pass", "callback.capture.success", "request.refund"):
        expect(page.locator(f'#coverage tr.covered[data-item="{item}"]')).to_have_count(1)
    expect(page.locator('#coverage tr.missed[data-item="outcome.offsite_cancel"]')).to_have_count(1)
    assert problems == []


def test_the_api_docs_try_it_out_with_an_access_token(browser, sandbox):
    """The interactive API docs: Swagger UI from assets the package ships (no network), the
    three documents, and "Try it out" answered by this sandbox with a shop's access token."""
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


def _offered(page, actions: set[str]) -> None:
    """Exactly these actions are offered on the payment's page."""
    from playwright.sync_api import expect

    for value in ("captures", "voids", "refunds"):
        button = page.locator(f"#operate button[value={value}]")
        if value in actions:
            expect(button).to_be_visible()
        else:
            expect(button).to_be_hidden()
