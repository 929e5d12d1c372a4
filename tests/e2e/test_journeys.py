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


def test_on_a_phone_the_first_result_comes_before_the_filters(page, world):
    # Issue 10: a phone user scrolled past five facet boxes to reach the first result.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/search?q=membrane")
    first_result = page.locator(".results .card").first
    facets = page.locator(".facets section").first
    assert first_result.is_visible() and not facets.is_visible()
    box = first_result.bounding_box()
    assert box["y"] + min(box["height"], 100) < 844  # its title and first lines: no scrolling

    page.click(".facets summary")  # the filters unfold on demand
    assert facets.is_visible()

    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    assert facets.is_visible()  # a wide screen shows them beside the results
    assert facets.bounding_box()["x"] < first_result.bounding_box()["x"]
