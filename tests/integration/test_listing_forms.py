"""Creating listings through the forms: valid input saves, bad input is explained and kept."""

from marketplace.extensions import db
from marketplace.models import Need, Solution
from tests.factories import UserFactory

GOOD_SOLUTION = {
    "title": "Integrated anaerobic digestion for food waste",
    "summary": "Wet AD with biogas upgrading for markets and canteens.",
    "description": "## How it works\n\nTwo-stage digestion.",
    "sectors": ["WST.BIO", "ENE.BIO"], "keywords": "biogas, AD, , food waste",
    "trl": "8", "capacity_min": "10", "capacity_max": "200", "capacity_unit": "t/day",
    "price_min": "1000000", "price_max": "5000000", "currency": "USD",
    "countries_served": ["TH", "VN", "PH"], "languages": ["en", "zh", "th"],
    "certifications": "ISO 14001, CE",
    "references-0-place": "Suzhou, Jiangsu", "references-0-year": "2021",
    "references-0-capacity": "120 t/day", "references-0-text": "Municipal food waste",
}

GOOD_NEED = {
    "title": "Leachate treatment for the Nong Khai landfill",
    "description": "Leachate from a 400 t/day landfill.", "sectors": ["WST.LFL"],
    "country": "TH", "city": "Nong Khai", "capacity": "150", "capacity_unit": "m3/day",
    "budget_min": "200000", "budget_max": "800000", "currency": "THB",
    "deadline": "2027-06-30", "min_trl": "7", "required_certifications": "ISO 9001",
}


def test_supplier_creates_a_solution(client, auth):
    supplier = UserFactory()
    auth.login(supplier)

    response = client.post("/solutions/new", data=GOOD_SOLUTION)

    assert response.status_code == 302
    solution = db.session.query(Solution).one()
    assert solution.organization_id == supplier.organization_id
    assert solution.status == "draft"
    assert set(solution.sectors) == {"WST.BIO", "ENE.BIO"}
    assert solution.keywords == ["biogas", "AD", "food waste"]
    assert set(solution.countries_served) == {"TH", "VN", "PH"}
    assert (solution.capacity_min, solution.capacity_max, solution.capacity_unit) == (
        10.0, 200.0, "t/day")
    assert solution.certifications == ["ISO 14001", "CE"]
    assert [(r.place, r.year) for r in solution.references] == [("Suzhou, Jiangsu", 2021)]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h2>How it works</h2>" in page
    assert "Suzhou, Jiangsu" in page


def test_buyer_creates_a_need(client, auth):
    buyer = UserFactory(buyer=True)
    auth.login(buyer)

    response = client.post("/needs/new", data=GOOD_NEED)

    assert response.status_code == 302
    need = db.session.query(Need).one()
    assert (need.country, need.capacity, need.currency, str(need.deadline)) == (
        "TH", 150.0, "THB", "2027-06-30")
    assert need.required_certifications == ["ISO 9001"]


def test_bad_solution_input_is_explained_and_kept(client, auth):
    auth.login(UserFactory())
    bad = {**GOOD_SOLUTION, "summary": "x" * 301, "capacity_min": "500", "capacity_max": "20",
           "price_min": "10", "currency": "", "sectors": [], "trl": "12",
           "references-0-year": ""}

    response = client.post("/solutions/new", data=bad)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Field cannot be longer than 300 characters." in page
    assert "Must not be below the minimum capacity." in page
    assert "Give the currency of the price." in page
    assert "Choose at least one sector." in page
    assert "Not a valid choice." in page
    assert "Give the year of this reference." in page
    assert "Nothing was saved yet" in page
    # What was typed is still there.
    assert GOOD_SOLUTION["title"] in page
    assert "x" * 301 in page
    assert "Suzhou, Jiangsu" in page
    assert db.session.query(Solution).count() == 0


def test_bad_need_input_is_explained_and_kept(client, auth):
    auth.login(UserFactory(buyer=True))
    bad = {**GOOD_NEED, "country": "CN", "deadline": "next week", "capacity": "-3",
           "title": "Hi"}

    response = client.post("/needs/new", data=bad)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not a valid choice." in page  # needs are posted from ASEAN countries
    assert "Not a valid date value." in page
    assert "Number must be at least 0." in page
    assert "Field must be between 5 and 200 characters long." in page
    assert 'value="next week"' in page
    assert db.session.query(Need).count() == 0


def test_a_failed_edit_keeps_the_saved_version(client, auth):
    supplier = UserFactory()
    auth.login(supplier)
    client.post("/solutions/new", data=GOOD_SOLUTION)
    solution = db.session.query(Solution).one()

    response = client.post(f"/solutions/{solution.id}/edit",
                           data={**GOOD_SOLUTION, "title": "", "summary": "new summary"})

    assert response.status_code == 400
    assert "new summary" in response.get_data(as_text=True)
    db.session.refresh(solution)
    assert solution.title == GOOD_SOLUTION["title"]
    assert solution.summary == GOOD_SOLUTION["summary"]


def test_csrf_is_required_for_every_form(app, client, auth):
    supplier = UserFactory()
    auth.login(supplier)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/solutions/new", data=GOOD_SOLUTION)
        logout = client.post("/logout")
        language = client.post("/language", data={"language": "zh"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 400
    assert "That request could not be understood" in response.get_data(as_text=True)
    assert logout.status_code == 400
    assert language.status_code == 400
    assert db.session.query(Solution).count() == 0
    assert client.get("/my").status_code == 200  # still signed in


def test_a_form_with_its_csrf_token_goes_through(app, client, auth):
    import re

    auth.login(UserFactory())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/solutions/new").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/solutions/new", data={**GOOD_SOLUTION, "csrf_token": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 302
