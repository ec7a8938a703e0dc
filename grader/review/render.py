"""Student content as safe HTML: markdown without raw HTML, code highlighted, everything escaped.

Students' notebooks are hostile input (script tags, `javascript:` links, HTML outputs): markdown
goes through markdown-it-py with HTML disabled and its link validation (no javascript:, vbscript:,
file: or non-image data: URLs), links open in a new tab without a referrer, and images may only
be the cell's own attachments or inline data (the page's Content-Security-Policy blocks the rest).
Code is highlighted by Pygments, which escapes it.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

MAX_SOURCE = 200_000  # characters of one cell rendered
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"])
_FORMATTER = HtmlFormatter(nowrap=True)
_LEXER = PythonLexer()


def _capped(text: str) -> str:
    return text if len(text) <= MAX_SOURCE else text[:MAX_SOURCE] + "\n…"


def _walk(tokens: list[Token]) -> list[Token]:
    found = []
    for token in tokens:
        found.append(token)
        if token.children:
            found.extend(_walk(token.children))
    return found


def markdown_html(source: str, attachments: Mapping[str, tuple[str, str]] | None = None) -> Markup:
    """A markdown cell as HTML: raw HTML shown as text, unsafe links dropped, attachments inlined."""
    tokens = _MARKDOWN.parse(_capped(source))
    for token in _walk(tokens):
        if token.type == "image":
            src = str(token.attrGet("src") or "")
            if src.startswith("attachment:"):
                found = (attachments or {}).get(unquote(src[len("attachment:"):]))
                token.attrSet("src", f"data:{found[0]};base64,{found[1]}" if found else "")
        elif token.type == "link_open":
            token.attrSet("target", "_blank")
            token.attrSet("rel", "noopener noreferrer nofollow")
    return Markup(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}))  # noqa: S704 (markdown-it escapes)


def code_html(source: str) -> Markup:
    """Python source highlighted (Pygments escapes it); CSS classes from `code_css`."""
    return Markup(highlight(_capped(source), _LEXER, _FORMATTER))  # noqa: S704 (Pygments escapes)


def code_css() -> str:
    return str(_FORMATTER.get_style_defs(".highlight"))
