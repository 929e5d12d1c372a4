from marketplace.templating import render_markdown


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
