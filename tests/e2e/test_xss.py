"""Stored XSS (issue 9, items 2 and 7) in a real browser: nothing the attacker stored runs,
and the Content-Security-Policy blocks inline script that a template might let through."""

from __future__ import annotations

from tests.e2e.conftest import EVIL_NAME, EVIL_WEBSITE


def test_the_organisation_page_runs_nothing_stored(page, dialogs, world):
    page.goto(f"/organizations/{world.evil_org_id}")

    assert page.locator("h1").inner_text().startswith(EVIL_NAME.split("<")[0].strip())
    assert "<script>alert(1)</script>" in page.locator("h1").inner_text()  # shown as text
    assert page.locator("main img[src=x]").count() == 0
    # A dangerous website is not a working link; if one is rendered, clicking it runs nothing.
    links = page.locator(f'main a[href="{EVIL_WEBSITE}"]')
    if links.count():
        links.first.click()
        page.wait_for_timeout(300)
    assert dialogs == []


def test_listing_cards_and_detail_run_nothing_stored(page, dialogs, world):
    page.goto("/solutions")
    page.get_by_text("Totally safe solution").click()
    page.wait_for_load_state()
    page.goto("/search?q=safe")
    assert dialogs == []


def test_the_emagazine_issue_runs_nothing_stored(page, dialogs, world):
    # The automatic "new solutions" section carries the evil organisation's name (item 7).
    page.goto(f"/emagazine/{world.issue_slug}")

    assert "Totally safe solution" in page.content()
    assert page.locator("main script, main img[src=x], main [onerror]").count() == 0
    assert dialogs == []


def test_the_csp_blocks_inline_script_injected_into_a_real_page(page, world):
    page.goto(f"/organizations/{world.org_id}")
    page.evaluate("""() => {
        window.violations = [];
        document.addEventListener("securitypolicyviolation",
            (event) => window.violations.push(event.violatedDirective));
    }""")

    # What a missed escape would put into the page: an inline script and an inline handler.
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.pwned = 'script'";
        document.body.appendChild(script);
        document.querySelector("main").insertAdjacentHTML(
            "beforeend", '<img src="data:," onload="window.pwned = \\'handler\\'">');
    }""")
    page.wait_for_function("window.violations.length >= 2")

    assert page.evaluate("window.pwned") is None
    assert all(v.startswith("script-src") for v in page.evaluate("window.violations"))
