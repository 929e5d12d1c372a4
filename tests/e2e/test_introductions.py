"""A whole introduction in two browsers, a buyer's and a supplier's (issue 12): from a match
to an expression of interest, accepted, a message each way, moved to "meeting", and on both
boards."""

from __future__ import annotations

from tests.e2e.conftest import sign_in


def test_a_match_becomes_a_meeting_in_two_browsers(page, browser, base_url, world):
    buyer = page
    sign_in(buyer, world.buyer_email)
    buyer.goto(f"/needs/{world.need_id}/matches")
    with buyer.expect_navigation():
        buyer.get_by_role("link", name="Express interest").first.click()
    buyer.fill("textarea[name=message]", "We treat 40 t of sludge a day in Da Nang.")
    buyer.get_by_label("A call").check()
    with buyer.expect_navigation():
        buyer.get_by_role("button", name="Send the request").click()
    assert "Request sent" in buyer.content()
    introduction_url = buyer.url

    supplier_context = browser.new_context(base_url=base_url)
    supplier = supplier_context.new_page()
    try:
        sign_in(supplier, world.supplier_email)
        supplier.goto("/introductions")
        with supplier.expect_navigation():
            supplier.get_by_role("link", name="Answer").first.click()
        assert "We treat 40 t of sludge a day" in supplier.content()
        assert world.buyer_email not in supplier.content()  # hidden until accepted
        with supplier.expect_navigation():
            supplier.get_by_role("button", name="Accept and share contact details").click()
        assert world.buyer_email in supplier.content()
        supplier.fill("textarea[name=body]", "Could we meet at the Yixing fair?")
        with supplier.expect_navigation():
            supplier.get_by_role("button", name="Send", exact=True).click()

        buyer.goto(introduction_url)
        assert "Could we meet at the Yixing fair?" in buyer.content()
        assert world.supplier_email in buyer.content()
        buyer.fill("textarea[name=body]", "Yes, on the second day.")
        with buyer.expect_navigation():
            buyer.get_by_role("button", name="Send", exact=True).click()
        with buyer.expect_navigation():
            buyer.get_by_role("button", name="Move to Meeting").click()
        assert "Moved to" in buyer.content()

        for browser_page in (buyer, supplier):
            browser_page.goto("/introductions")
            column = browser_page.locator("section.board-column", has=browser_page.locator(
                "#column-meeting"))
            assert column.get_by_role("link", name="Membrane bioreactor for small towns",
                                      exact=False).count() == 1
        supplier.goto(introduction_url)
        assert "Yes, on the second day." in supplier.content()
    finally:
        supplier_context.close()
