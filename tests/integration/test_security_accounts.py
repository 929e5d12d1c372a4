"""Issue 9, accounts: redirects after sign-in, e-mail links, throttling, sessions, enumeration
and transactional mail sent as jobs.  Each test failed on the code before its fix."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, UserFactory

# ---------------------------------------------------------------------------------------------
# Item 3: open redirects.  Browsers strip tab/CR/LF and read "\" as "/", so each of these
# would reach another site (or run script) if followed.
BYPASSES = [
    "//evil.example/x", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\r\n/evil.example", "/%09/evil.example", "/%2F%2Fevil.example", "/%5Cevil.example",
    "/%2F/evil.example", "%2F%2Fevil.example", "/%252F%252Fevil.example",
    "https://evil.example/", "https:evil.example", "javascript:alert(1)",
    "evil.example", " //evil.example", "/\x00/evil.example",
]


def _is_local(location: str) -> bool:
    return location.startswith("/") and location[1:2] not in ("/", "\\")


@pytest.mark.parametrize("target", BYPASSES)
def test_login_never_redirects_off_site(client, target):
    UserFactory(email="me@example.org")

    response = client.post("/login", query_string={"next": target},
                           data={"email": "me@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/my"


@pytest.mark.parametrize("target", BYPASSES)
def test_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"language": "zh", "next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/browse/solutions?q=water&page=2", "/my", "/a%20b"])
def test_same_site_paths_are_followed(client, target):
    UserFactory(email="me@example.org")

    login = client.post("/login", query_string={"next": target},
                        data={"email": "me@example.org", "password": PASSWORD})
    language = client.post("/language", data={"language": "en", "next": target})

    assert login.headers["Location"] == target
    assert language.headers["Location"] == target
