"""The lesson text's Markdown subset (cluster/dashboard/markdown.py): markup from the few
constructs it knows, and everything else escaped, so no lesson text can make a tag."""
from __future__ import annotations

from cluster.dashboard.markdown import render


def test_the_subset():
    html = render("A **bold** and *em* `kubectl get <pods>`\n\n- one\n- two\n\n1. first\n\n```\na < b\n```")
    assert html == ("<p>A <strong>bold</strong> and <em>em</em> <code>kubectl get &lt;pods&gt;</code></p>\n"
                    "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n</ol>\n"
                    "<pre><code>a &lt; b</code></pre>")


def test_hostile_text_stays_text():
    html = render('<script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3)) '
                  '[y](https://example.org/"onmouseover="alert(4))')
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "onmouseover=\"" not in html and "&lt;script&gt;" in html
    assert render("[docs](https://kubernetes.io/docs/)") == \
        '<p><a href="https://kubernetes.io/docs/" target="_blank" rel="noopener noreferrer">docs</a></p>'
