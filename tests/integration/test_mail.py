"""E-mail is rendered from templates/email/<name>/ and written by the configured transport."""

from marketplace.mailing import transport
from tests.factories import UserFactory


def test_email_is_multipart_plain_first_with_inlined_css(app):
    user = UserFactory(name="Somchai")
    with app.test_request_context():
        message = transport.render_email("verify_email", user.email, "en", user=user,
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
        message = transport.render_email("verify_email", user.email, "zh", user=user, link="x")
    assert message["Subject"] != "Confirm your e-mail address for the EST Marketplace"
    assert "确认" in message["Subject"]


def test_outbox_is_listed_for_admins(app, client, auth, outbox):
    user = UserFactory()
    with app.test_request_context():
        transport.send_email("reset_password", user.email, "en", user=user, link="http://x/y")
    auth.login(UserFactory(admin=True))  # staff get 403: test_security_staff

    listing = client.get("/staff/outbox").get_data(as_text=True)
    message_id = outbox.folder.glob("*.eml").__next__().stem
    detail = client.get(f"/staff/outbox/{message_id}").get_data(as_text=True)

    assert "Reset your EST Marketplace password" in listing
    assert user.email in detail
    assert "sandbox" in detail  # the HTML is shown in a sandboxed frame
    assert client.get("/staff/outbox/..%2F..%2Fsecret_key").status_code == 404


# -- the SMTP transport, against a real SMTP server (aiosmtpd) ---------------------------------

import pytest  # noqa: E402

from tests.support.smtp_sink import SmtpSink, free_port  # noqa: E402


@pytest.fixture
def smtp(app):
    sink = SmtpSink().start()
    saved = {k: app.config[k] for k in ("MAIL_TRANSPORT", "SMTP_HOST", "SMTP_PORT")}
    app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
    yield sink
    app.config.update(saved)
    sink.stop()


def _message(app, to):
    user = UserFactory(email=to)
    with app.test_request_context():
        return transport.render_email("reset_password", to, "en", user=user, link="http://x/y")


def test_smtp_session_sends_a_batch_and_sorts_failures(app, smtp):
    smtp.reply_with("later@example.org", "451 4.3.0 try again later", times=1)
    smtp.reply_with("gone@example.org", "550 5.1.1 no such user")
    messages = {to: _message(app, to) for to in
                ("one@example.org", "later@example.org", "gone@example.org")}

    with transport.MailSession() as session:
        session.send(messages["one@example.org"])
        with pytest.raises(transport.TransientMailError, match="451"):
            session.send(messages["later@example.org"])
        with pytest.raises(transport.PermanentMailError, match="550"):
            session.send(messages["gone@example.org"])
        session.send(messages["later@example.org"])  # the retry goes through

    assert smtp.recipients() == {"one@example.org": 1, "later@example.org": 1}


def test_an_unreachable_server_is_a_transient_failure(app, smtp):
    message = _message(app, "one@example.org")
    app.config["SMTP_PORT"] = free_port()  # nobody listens there
    with pytest.raises(transport.TransientMailError), transport.MailSession() as session:
        session.send(message)
