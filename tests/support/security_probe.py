"""Re-run the audit's findings 1-5, 8 and 9 against a running instance, as an attacker would.

    python tests/support/security_probe.py http://127.0.0.1:5000 USER_EMAIL PASSWORD OUTBOX_DIR

It prints one line per check and exits non-zero if any finding is back.  The account must be
a real one on that instance; OUTBOX_DIR is its mail folder (embedded mode), read for item 1.
"""

from __future__ import annotations

import http.client
import re
import sys
import time
import urllib.parse
from email import policy
from email.parser import BytesParser
from pathlib import Path

FAILURES: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")
    if not ok:
        FAILURES.append(name)


class Client:
    def __init__(self, base: str):
        self.url = urllib.parse.urlsplit(base)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None, cookies: dict | None = None):
        conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
        jar = self.cookies if cookies is None else cookies
        sent = {"Host": self.url.netloc, **(headers or {})}
        if jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if cookies is None:
                    if cookie_value:
                        self.cookies[name] = cookie_value
                    else:
                        self.cookies.pop(name, None)
        conn.close()
        return response, text

    def csrf(self, path: str) -> str:
        _, text = self.request("GET", path)
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', text)
        return match.group(1) if match else ""

    def login(self, email: str, password: str, remember: bool = False):
        token = self.csrf("/login")
        data = {"csrf_token": token, "email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.request("POST", "/login", data)


def main(base: str, email: str, password: str, outbox: str) -> int:
    c = Client(base)
    # 1. Reset poisoning: the Host header must not reach the e-mailed link.
    before = set(Path(outbox).glob("*.eml"))
    token = c.csrf("/password/forgot")
    c.request("POST", "/password/forgot", {"csrf_token": token, "email": email},
              headers={"Host": "evil.example"})
    c.request("POST", "/password/forgot", {"csrf_token": token, "email": email},
              headers={"X-Forwarded-Host": "evil.example"})
    time.sleep(2)
    mails = [p for p in Path(outbox).glob("*.eml") if p not in before]
    bodies = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()).as_string()
              for p in mails]
    check("1 no e-mail link on a forged host", not any("evil.example" in b for b in bodies))
    # 2. (XSS) and 8. Security headers.
    response, _ = c.request("GET", "/")
    csp = response.getheader("Content-Security-Policy") or ""
    check("8 CSP without unsafe-inline script", "script-src 'self'" in csp
          and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], csp)
    check("8 frame-ancestors none", "frame-ancestors 'none'" in csp)
    check("8 nosniff", response.getheader("X-Content-Type-Options") == "nosniff")
    check("8 referrer policy", bool(response.getheader("Referrer-Policy")))
    _, page = c.request("GET", "/")
    check("8 no inline handlers", not re.search(r"\son(change|click|submit)=", page))
    # 3. Open redirects after login and language switch.
    bypasses = ["/%09/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
                "https://evil.example", "/%2F%2Fevil.example", "/%5Cevil.example",
                "javascript:alert(1)", "%2F%2Fevil.example", "/\t/evil.example"]
    for target in bypasses:
        quoted = urllib.parse.quote(target, safe="")
        token = c.csrf("/")
        response, _ = c.request("POST", "/language", {"csrf_token": token, "language": "en",
                                                      "next": target})
        location = response.getheader("Location") or ""
        offsite = urllib.parse.urlsplit(location.replace("\\", "/")).netloc not in (
            "", c.url.netloc)
        check(f"3 language next={target!r}", response.status < 500 and not offsite, location)
        fresh = Client(base)
        response, _ = fresh.request("GET", f"/login?next={quoted}")
        check(f"3 login page next={target!r}", response.status < 500)
    # 9. CR/LF in next.
    response, _ = Client(base).request("GET", "/login?next=/%0d%0aSet-Cookie:x=1")
    check("9 CR/LF in next", response.status < 500 and not response.getheader("Set-Cookie",
                                                                                 "").startswith("x="))
    # 5. Sessions end at logout.
    user = Client(base)
    response, _ = user.login(email, password, remember=True)
    check("5 sign in", response.status == 302, str(response.status))
    copied = dict(user.cookies)
    token = user.csrf("/account")
    user.request("POST", "/logout", {"csrf_token": token})
    response, _ = Client(base).request("GET", "/account", cookies=copied)
    check("5 copied cookies dead after logout", response.status == 302, str(response.status))
    again = Client(base)
    again.login(email, password, remember=True)
    check("5 remember cookie differs per login",
          again.cookies.get("remember_token") != copied.get("remember_token"))
    token = again.csrf("/account")
    again.request("POST", "/logout", {"csrf_token": token})
    # 9. Bad input.
    probes = ["/solutions?page=4611686018427387904", "/needs?page=-1",
              "/solutions/9223372036854775808", "/organizations/99999999999999999999",
              "/search?q=%00biogas", "/search?q=biogas&page=1000", "/emagazine?page=99999999999",
              "/search?q=a&trl_min=sNaN"]
    for path in probes:
        response, _ = Client(base).request("GET", path)
        check(f"9 {path}", 400 <= response.status < 500 or response.status == 200,
              str(response.status))
    # 4. Login throttling: 40 wrong passwords, then the right one.
    attacker = Client(base)
    statuses = [attacker.login(email, "wrong-password-123")[0].status for _ in range(15)]
    response, _ = attacker.login(email, password)
    check("4 login throttled", 429 in statuses and response.status == 429,
          f"{statuses[-3:]} then {response.status}")
    print(f"\n{len(FAILURES)} finding(s) back" if FAILURES else "\nnothing found")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
