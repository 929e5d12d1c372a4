"""A person's path through the site under the Content-Security-Policy: sign in, switch the
language with the select (a script file does the submit), sign out."""

from __future__ import annotations

from tests.e2e.conftest import sign_in


def test_sign_in_switch_to_chinese_and_sign_out(page, world):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    sign_in(page, world.supplier_email)
    assert page.locator("form[action='/logout'] button").is_visible()

    with page.expect_navigation():
        page.select_option("#language-select", label="简体中文")
    assert page.locator("html").get_attribute("lang") == "zh"
    assert page.locator("#language-select").input_value() == "zh"
    sign_out = page.locator("form[action='/logout'] button")
    assert sign_out.inner_text() == "退出登录"

    with page.expect_navigation():
        sign_out.click()
    assert page.locator("form[action='/logout']").count() == 0
    assert page.locator("a[href='/login']").is_visible()
    assert violations == []


def test_a_confirm_question_comes_from_the_script_file(page, world):
    # Staff "Remove" buttons ask first (data-confirm, handled by static/app.js).
    sign_in(page, world.staff_email)
    page.goto(f"/organizations/{world.org_id}")
    page.evaluate("""() => document.querySelector("main").insertAdjacentHTML("beforeend",
        '<form id="ask" method="post" action="/nowhere" data-confirm="Sure?">'
        + '<button>Go</button></form>')""")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#ask button")
    assert asked == ["Sure?"]
    assert page.url.endswith(f"/organizations/{world.org_id}")  # dismissed: not submitted
