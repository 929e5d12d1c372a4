"""Registration, e-mail verification, sign-in and passwords, through the real pages."""

from marketplace.accounts.registration import find_user_by_email
from marketplace.extensions import db
from marketplace.models import Organization, User
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

NEW_ORG = {
    "name": "Nguyen Van A", "email": "A.Nguyen@DaNang.example", "password": "long enough pw",
    "confirm": "long enough pw", "role": "buyer", "language": "en",
    "org_name": "Da Nang Water Supply", "org_kind": "utility", "org_country": "VN",
    "org_city": "Da Nang", "org_base": "",
}


def test_register_creates_organisation_and_sends_verification(client, outbox):
    response = client.post("/register", data=NEW_ORG)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"  # sign in once registered
    user = find_user_by_email("a.nguyen@danang.example")
    assert user.email == "a.nguyen@danang.example"
    assert user.role == "buyer"
    assert user.organization.name == "Da Nang Water Supply"
    assert user.organization.country == "VN"
    assert not user.email_verified
    assert not user.organization.is_verified
    message = outbox.last()
    assert message["To"] == "a.nguyen@danang.example"
    assert "Confirm your e-mail" in message["Subject"]


def test_verification_link_confirms_the_address(client, outbox):
    client.post("/register", data=NEW_ORG)
    link = outbox.last_link("/verify/")

    response = client.get(link)

    assert response.status_code == 302
    assert find_user_by_email(NEW_ORG["email"]).email_verified


def test_tampered_verification_link_is_refused(client, outbox):
    client.post("/register", data=NEW_ORG)
    link = outbox.last_link("/verify/")

    response = client.get(link[:-3] + "xyz", follow_redirects=True)

    assert "invalid or has expired" in response.get_data(as_text=True)
    assert not find_user_by_email(NEW_ORG["email"]).email_verified


def test_register_joins_an_organisation_by_code(client):
    org = OrganizationFactory()
    data = {**NEW_ORG, "email": "colleague@example.org", "role": "supplier",
            "join_code": org.join_code, "org_name": "", "org_kind": "", "org_country": ""}

    response = client.post("/register", data=data)

    assert response.status_code == 302
    assert find_user_by_email("colleague@example.org").organization_id == org.id
    assert db.session.query(Organization).count() == 1


def test_register_with_a_wrong_join_code_keeps_the_input(client):
    data = {**NEW_ORG, "join_code": "no-such-code", "org_name": ""}

    response = client.post("/register", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No organisation has this code." in page
    assert 'value="Nguyen Van A"' in page
    assert 'value="no-such-code"' in page
    assert find_user_by_email(NEW_ORG["email"]) is None


def test_register_makes_no_second_account_for_an_address_whatever_its_case(client, outbox):
    UserFactory(email="taken@example.org")

    response = client.post("/register", data={**NEW_ORG, "email": "TAKEN@example.org"})

    # Answered like a new registration (test_security_accounts compares the two); the owner
    # is told by mail.
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert db.session.query(User).count() == 1
    assert db.session.query(Organization).count() == 1
    assert outbox.last()["To"] == "taken@example.org"
    assert "tried to register" in outbox.last()["Subject"]


def test_register_validates_every_field(client):
    response = client.post("/register", data={
        "name": "", "email": "not-an-email", "password": "short", "confirm": "other",
        "role": "buyer", "language": "en", "org_name": "", "org_kind": "", "org_country": ""})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Invalid email address." in page
    assert "Use at least 10 characters." in page
    assert "The passwords differ." in page
    assert "Required unless you give a join code." in page
    assert 'value="not-an-email"' in page
    assert "Please correct the marked fields." in page


def test_login_and_logout(client):
    user = UserFactory(email="me@example.org", name="Mei")

    response = client.post("/login", data={"email": "ME@example.org", "password": PASSWORD},
                           follow_redirects=True)
    assert "Welcome back, Mei" in response.get_data(as_text=True)
    assert client.get("/my").status_code == 200

    client.post("/logout")
    assert client.get("/my").status_code == 302
    assert user.id


def test_login_with_a_wrong_password(client):
    UserFactory(email="me@example.org")

    response = client.post("/login", data={"email": "me@example.org", "password": "wrong one!"})

    assert response.status_code == 400
    assert "The e-mail or password is wrong." in response.get_data(as_text=True)
    assert 'value="me@example.org"' in response.get_data(as_text=True)


def test_login_refuses_a_deactivated_account(client):
    UserFactory(email="gone@example.org", is_active_account=False)

    response = client.post("/login", data={"email": "gone@example.org", "password": PASSWORD})

    assert response.status_code == 400


def test_logout_needs_a_post(client, auth):
    user = UserFactory()
    auth.login(user)

    assert client.get("/logout").status_code == 405
    assert client.get("/my").status_code == 200


def test_login_only_redirects_to_local_pages(client):
    UserFactory(email="me@example.org")

    response = client.post("/login?next=//evil.example/x",
                           data={"email": "me@example.org", "password": PASSWORD})

    assert response.headers["Location"] == "/my"


def test_password_reset_flow(client, outbox):
    UserFactory(email="me@example.org")

    client.post("/password/forgot", data={"email": "me@example.org"})
    link = outbox.last_link("/password/reset/")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "a brand new pw", "confirm": "a brand new pw"})

    assert response.status_code == 302
    assert client.post("/login", data={"email": "me@example.org", "password": PASSWORD}
                       ).status_code == 400
    assert client.post("/login", data={"email": "me@example.org", "password": "a brand new pw"}
                       ).status_code == 302


def test_password_reset_link_works_once(client, outbox):
    UserFactory(email="me@example.org")
    client.post("/password/forgot", data={"email": "me@example.org"})
    link = outbox.last_link("/password/reset/")
    client.post(link, data={"password": "a brand new pw", "confirm": "a brand new pw"})

    response = client.post(link, data={"password": "another new pw", "confirm": "another new pw"},
                           follow_redirects=True)

    assert "invalid, used or expired" in response.get_data(as_text=True)
    assert find_user_by_email("me@example.org").check_password("a brand new pw")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, outbox):
    response = client.post("/password/forgot", data={"email": "nobody@example.org"},
                           follow_redirects=True)

    assert "If an account exists for nobody@example.org" in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_change_password(client, auth):
    user = UserFactory()
    auth.login(user)

    wrong = client.post("/account", data={
        "password-current": "not my password", "password-password": "new password 1",
        "password-confirm": "new password 1", "password-submit": "Change"})
    assert wrong.status_code == 400
    assert "That is not your current password." in wrong.get_data(as_text=True)

    right = client.post("/account", data={
        "password-current": PASSWORD, "password-password": "new password 1",
        "password-confirm": "new password 1", "password-submit": "Change"})
    assert right.status_code == 302
    db.session.refresh(user)
    assert user.check_password("new password 1")


def test_settings_remember_the_language(client, auth):
    user = UserFactory()
    auth.login(user)

    client.post("/account", data={"settings-name": "Li Wei", "settings-language": "zh",
                                  "settings-submit": "Save"})

    db.session.refresh(user)
    assert (user.name, user.language) == ("Li Wei", "zh")
