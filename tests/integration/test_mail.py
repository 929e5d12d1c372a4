"""E-mail is rendered from templates/email/<name>/ and written by the configured transport."""

from marketplace.services import mail
from tests.factories import UserFactory


def test_email_is_multipart_plain_first_with_inlined_css(app):
    user = UserFactory(name="Somchai")
    with app.test_request_context():
        message = mail.render_email("verify_email", user.email, "en", user=user,
                                    link="http://localhost/verify/abc")

    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<style" not in html
    assert 'style="' in html
    assert "Hello Somchai," in message.get_body(preferencelist=("plain",)).get_content()


def test_email_comes_in_the_readers_language(app):
    user = UserFactory(language="zh")
    with app.test_request_context():
        message = mail.render_email("verify_email", user.email, "zh", user=user, link="x")
    assert message["Subject"] != "Confirm your e-mail address for the EST Marketplace"
    assert "确认" in message["Subject"]


def test_outbox_is_listed_for_staff(app, client, auth, outbox):
    user = UserFactory()
    with app.test_request_context():
        mail.send_email("reset_password", user.email, "en", user=user, link="http://x/y")
    auth.login(UserFactory(staff=True))

    listing = client.get("/staff/outbox").get_data(as_text=True)
    message_id = outbox.folder.glob("*.eml").__next__().stem
    detail = client.get(f"/staff/outbox/{message_id}").get_data(as_text=True)

    assert "Reset your EST Marketplace password" in listing
    assert user.email in detail
    assert "sandbox" in detail  # the HTML is shown in a sandboxed frame
    assert client.get("/staff/outbox/..%2F..%2Fsecret_key").status_code == 404
