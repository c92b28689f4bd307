"""A small, safe Markdown subset for lesson text (docs/lessons.md): the text is HTML-escaped
first, then only these are turned into markup, so no input can make a tag or an attribute:

    paragraphs (blank lines)          - bullet lists / 1. numbered lists
    `code`   **bold**   *italic*      ``` fenced code blocks ```
    [text](https://...)               links to http(s) only, opened in a new tab, rel=noopener

No dependency: the project needs a handful of constructs, and a full Markdown library would
bring raw-HTML pass-through that would then have to be turned off and sanitised again.
"""
from __future__ import annotations

import re
from html import escape

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
# After escaping: [text](url) with an http(s) URL without quotes, spaces or angle brackets.
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s()&\"'<>]+(?:&amp;[^\s()&\"'<>]+)*)\)")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def _inline(text: str) -> str:
    """One escaped line's inline markup; code spans are kept out of the other rules."""
    parts = _CODE.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{part}</code>")
            continue
        part = _LINK.sub(r'<a href="\2" target="_blank" rel="noopener noreferrer">\1</a>', part)
        part = _BOLD.sub(r"<strong>\1</strong>", part)
        part = _ITALIC.sub(r"<em>\1</em>", part)
        out.append(part)
    return "".join(out)


def render(text: str) -> str:
    """Markdown subset -> HTML; every character of `text` is escaped before any markup."""
    if not text:
        return ""
    lines = escape(text, quote=True).replace("\r\n", "\n").split("\n")
    html: list[str] = []
    para: list[str] = []
    list_tag: str | None = None
    i = 0

    def flush_para() -> None:
        if para:
            html.append("<p>" + _inline(" ".join(p.strip() for p in para)) + "</p>")
            para.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            html.append(f"</{list_tag}>")
            list_tag = None

    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            flush_para()
            close_list()
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            html.append("<pre><code>" + "\n".join(body) + "</code></pre>")
            i += 1
            continue
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet or numbered:
            flush_para()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                html.append(f"<{tag}>")
                list_tag = tag
            html.append("<li>" + _inline((bullet or numbered).group(1)) + "</li>")
        elif not line.strip():
            flush_para()
            close_list()
        elif list_tag and line.startswith((" ", "\t")) and html[-1].endswith("</li>"):
            html[-1] = html[-1][:-5] + " " + _inline(line.strip()) + "</li>"   # a list item's next line
        else:
            close_list()
            para.append(line)
        i += 1
    flush_para()
    close_list()
    return "\n".join(html)
