"""A B2B meeting in three browsers (issue 13): a supplier and a buyer register for an event,
the supplier sees the buyer under "People you should meet here" and asks for a meeting, the
buyer accepts, staff run the scheduler and publish, and both find the meeting in their
agendas, with the .ics downloaded."""

from __future__ import annotations

from pathlib import Path

from icalendar import Calendar

from tests.e2e.conftest import sign_in


def _register(page, event_id: int) -> None:
    page.goto(f"/events/{event_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()
    with page.expect_navigation():
        page.get_by_role("link", name="My B2B meetings").click()


def test_a_suggested_meeting_ends_in_both_agendas(page, browser, base_url, world):
    event = world.b2b_event_id
    contexts = []

    def another(email):
        context = browser.new_context(base_url=base_url)
        contexts.append(context)
        other = context.new_page()
        sign_in(other, email)
        return other

    try:
        buyer = another("meets-buyer@example.org")
        _register(buyer, event)
        supplier = page
        sign_in(supplier, "meets-supplier@example.org")
        _register(supplier, event)

        suggestion = supplier.locator("article", has_text="Sludge treatment for Da Nang")
        assert suggestion.count() == 1 and "sludge" in suggestion.inner_text()  # the reason
        suggestion.locator("textarea[name=reason]").fill("We dewater sludge: shall we talk?")
        with supplier.expect_navigation():
            suggestion.get_by_role("button", name="Request a meeting").click()
        assert "Your request is sent" in supplier.content()

        buyer.goto(f"/events/{event}/meetings")
        assert "We dewater sludge: shall we talk?" in buyer.content()
        with buyer.expect_navigation():
            buyer.get_by_role("button", name="Accept", exact=True).click()
        assert "Accepted" in buyer.content()

        staff = another(world.staff_email)
        staff.goto(f"/staff/events/{event}/meetings")
        with staff.expect_navigation():
            staff.get_by_role("button", name="Run the scheduler").click()
        assert "The scheduler placed 1 meetings" in staff.content()
        with staff.expect_navigation():
            staff.get_by_role("button", name="Publish as preliminary").click()
        assert "Schedule published" in staff.content()

        for person, counterpart in ((buyer, "Yixing Water Works"),
                                    (supplier, "Sludge treatment for Da Nang")):
            person.goto(f"/events/{event}/meetings")
            agenda = person.locator("article.agenda-item")
            assert agenda.count() == 1 and counterpart in agenda.inner_text()
            assert "Table 1" in agenda.inner_text()
        with supplier.expect_download() as download:
            supplier.get_by_role("link", name="Add to my calendar (.ics)").click()
        [entry] = Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")
        assert str(entry["UID"]).startswith("meeting-") and int(entry["SEQUENCE"]) >= 1
        supplier.goto(f"/events/{event}/agenda")
        assert "Sludge treatment for Da Nang" in supplier.content()
    finally:
        for context in contexts:
            context.close()
