from types import SimpleNamespace

from marketplace.templating import excerpt, plain_fragment, plain_text, render_markdown


def test_markdown_is_rendered():
    html = render_markdown("**bold** and [link](https://example.org)")
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.org"' in html
    assert 'rel="nofollow noopener"' in html


def test_markdown_is_sanitised():
    html = render_markdown(
        "<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))"
        "<a href='#' onclick='steal()'>y</a>"
    )
    assert "<script" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "<img" not in html


def test_empty_markdown():
    assert render_markdown(None) == ""


def test_plain_text_reads_markdown_as_text():
    source = ("## Overview\n\nHollow-fibre **membranes** and *stars*, a [link](https://x.org)"
              " and `code`.\n\n## Scope of supply\n\n- Process design\n- Remote support\n\n"
              "> Quoted\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert plain_text(source) == ("Overview. Hollow-fibre membranes and stars, a link and code."
                                  " Scope of supply. Process design. Remote support. Quoted"
                                  " a b 1 2")


def test_plain_text_keeps_what_only_looks_like_markdown():
    assert plain_text(r"snake_case, 5 * 3 and an escaped \*star\*") == (
        "snake_case, 5 * 3 and an escaped *star*")
    assert plain_text("Heading ends itself:\n# Is it?") == "Heading ends itself: Is it?"
    assert plain_text(None) == ""


def test_a_highlight_fragment_loses_its_markdown_and_keeps_its_marks():
    fragment = "…## What <mark>Yixing</mark> provides\n\n**Location:** 1 &lt; 2 <mark>x</mark>"
    assert plain_fragment(fragment) == (
        "…What <mark>Yixing</mark> provides. Location: 1 &lt; 2 <mark>x</mark>")


def test_marker_characters_in_the_text_do_not_become_marks():
    # The private markers stand for <mark>; any in the text itself are dropped first.
    assert plain_fragment("\x02script\x03 &lt;b&gt;") == "script &lt;b&gt;"


def test_an_excerpt_is_plain_short_and_drops_raw_html():
    need = SimpleNamespace(kind="need", summary=None,
                           description="## Need\n\n**Big** <b>bold</b> <script>x()</script> "
                                       + "word " * 60)
    text = excerpt(need, 60)
    assert text.startswith("Need. Big bold word") and text.endswith("…") and len(text) <= 60
    assert "<" not in text and "script" not in text
    solution = SimpleNamespace(kind="solution", summary="Compact *MBR* plants", description="")
    assert excerpt(solution) == "Compact MBR plants"
