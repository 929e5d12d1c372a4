"""Issue 9, item 11: staff versus admin.

Admins alone read the mail outbox (and even they never see a working reset or verification
link), send the E-magazine to its audience and manage staff accounts; an audit log records
who did what.
"""

from __future__ import annotations

import pytest
from flask import url_for

from marketplace.services import mail
from marketplace.services.mail_redaction import PLACEHOLDER
from tests.factories import UserFactory


@pytest.fixture
def staff():
    return UserFactory(staff=True, email="staff@example.org")


@pytest.fixture
def admin():
    return UserFactory(admin=True, email="admin@example.org")


# -- the mail outbox ------------------------------------------------------------------------

TOKEN = "SECRETtoken.abc-123_x"


def _token_mail(app, outbox, name="reset_password", endpoint="auth.reset_password") -> str:
    """A real reset (or verification) mail in the outbox, with TOKEN in its link; its id."""
    user = UserFactory(email="victim@example.org")
    with app.test_request_context():
        link = url_for(endpoint, token=TOKEN, _external=True)
        mail.send_email(name, user.email, "en", user=user, link=link)
    return next(outbox.folder.glob("*.eml")).stem


def test_staff_cannot_read_the_outbox(app, client, auth, outbox, staff):
    message_id = _token_mail(app, outbox)
    auth.login(staff)
    assert client.get("/staff/outbox").status_code == 403
    assert client.get(f"/staff/outbox/{message_id}").status_code == 403


def test_anonymous_is_sent_to_login_from_the_outbox(app, client, outbox):
    message_id = _token_mail(app, outbox)
    for path in ("/staff/outbox", f"/staff/outbox/{message_id}"):
        assert "/login" in client.get(path).headers["Location"]


@pytest.mark.parametrize(("name", "endpoint", "path"), [
    ("reset_password", "auth.reset_password", "/password/reset/"),
    ("verify_email", "auth.verify_email", "/verify/"),
])
def test_admin_sees_token_links_redacted(app, client, auth, outbox, admin, name, endpoint,
                                         path):
    message_id = _token_mail(app, outbox, name, endpoint)
    assert TOKEN in outbox.last().as_string()  # the real mail keeps its working link
    auth.login(admin)
    listing = client.get("/staff/outbox")
    page = client.get(f"/staff/outbox/{message_id}").get_data(as_text=True)

    assert listing.status_code == 200 and "victim@example.org" in listing.get_data(as_text=True)
    assert TOKEN not in page
    # Both parts are shown, each with the placeholder where the token was.
    text_part = page.split('<pre class="mail-text">')[1]
    html_part = page.split("srcdoc=")[1].split("</iframe>")[0]
    assert path + PLACEHOLDER in text_part
    assert path + PLACEHOLDER in html_part
