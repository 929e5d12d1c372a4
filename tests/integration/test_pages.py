"""Public pages: home, browsing with filters, detail pages, errors and languages."""

from marketplace.extensions import db
from tests.factories import NeedFactory, OrganizationFactory, SolutionFactory


def test_home_shows_latest_listings_and_counts(client):
    SolutionFactory(published=True, title="Sludge drying with solar greenhouses",
                    sectors=["WAT.SLU"], countries_served=["KH"])
    NeedFactory(published=True, title="Sludge treatment for Phnom Penh", country="KH",
                sectors=["WAT.SLU"])
    SolutionFactory(title="A draft nobody may see")

    page = client.get("/").get_data(as_text=True)

    assert "Sludge drying with solar greenhouses" in page
    assert "Sludge treatment for Phnom Penh" in page
    assert "A draft nobody may see" not in page
    # the sector chart: one solution and one need under Water
    assert 'href="/solutions?sector=WAT">Water</a>' in page
    assert 'href="/needs?country=KH">Cambodia</a>' in page


def test_browse_filters(client):
    yixing = OrganizationFactory(base="yixing")
    wuzhou = OrganizationFactory(base="wuzhou", city="Wuzhou")
    SolutionFactory(published=True, organization=yixing, title="MBR for Hue",
                    sectors=["WAT.MUN"], countries_served=["VN"], trl=9)
    SolutionFactory(published=True, organization=wuzhou, title="E-waste dismantling line",
                    sectors=["WST.REC"], countries_served=["TH"], trl=6,
                    summary="Recovers copper and gold")

    def titles(query):
        return client.get("/solutions" + query).get_data(as_text=True)

    assert "MBR for Hue" in titles("?sector=WAT") and "E-waste" not in titles("?sector=WAT")
    assert "E-waste" in titles("?sector=WST.REC")
    assert "MBR for Hue" not in titles("?country=TH")
    assert "MBR for Hue" not in titles("?base=wuzhou")
    assert "E-waste" not in titles("?trl=7")
    assert "E-waste" in titles("?q=copper")
    assert "Nothing matches these filters" in titles("?q=zzzz")
    assert client.get("/solutions?sector=NOPE&trl=99&page=999").status_code == 200


def test_browse_paginates(client):
    for n in range(25):
        NeedFactory(published=True, title=f"Need number {n:02d}")

    first = client.get("/needs").get_data(as_text=True)
    second = client.get("/needs?page=2").get_data(as_text=True)

    assert "Page 1 of 2" in first and "Need number 24" in first
    assert "Need number 00" in second and "Need number 24" not in second


def test_detail_page_shows_the_facts(client):
    solution = SolutionFactory(published=True, price_min=100000, price_max=250000.5,
                               currency="USD")

    page = client.get(f"/solutions/{solution.id}").get_data(as_text=True)

    assert "500–5,000 m³/day" in page
    assert "100,000–250,000.5 USD" in page
    assert "Viet Nam" in page and "Thailand" in page
    assert "<strong>Low footprint.</strong>" in page


def test_markdown_in_listings_is_sanitised(client):
    solution = SolutionFactory(published=True,
                               description="Hi <script>alert('x')</script> <b onclick=x()>b</b>")

    page = client.get(f"/solutions/{solution.id}").get_data(as_text=True)

    assert "<script>alert" not in page
    assert "onclick" not in page


def test_friendly_404(client):
    response = client.get("/solutions/999999")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_api_errors_are_problem_json(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_friendly_500(database_url, tmp_path):
    from marketplace import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})

    @app.get("/boom-for-test")
    def boom():
        db.session.execute(db.text("SELECT 1"))  # leave a transaction open
        raise RuntimeError("boom")

    with app.test_client() as client:
        response = client.get("/boom-for-test")
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_language_switch_is_remembered(client):
    response = client.post("/language", data={"language": "zh", "next": "/solutions"})

    assert response.headers["Location"] == "/solutions"
    page = client.get("/solutions").get_data(as_text=True)
    assert '<html lang="zh">' in page
    assert "解决方案" in page


def test_language_from_the_browser(client):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert '<html lang="zh">' in page


def test_language_switch_does_not_redirect_offsite(client):
    response = client.post("/language", data={"language": "en", "next": "//evil.example"})
    assert response.headers["Location"] == "/"


def test_pages_work_on_a_phone(client):
    page = client.get("/").get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    with client.get("/static/app.css") as response:
        css = response.get_data(as_text=True)
    assert "@media (min-width: 800px)" in css
