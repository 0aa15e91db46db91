"""Render the client's HTML pages: ``index.html`` and one page per screen.

Every page links the app's icon and stylesheet, then each bundled library's stylesheet (so
a library theme can override the defaults; a library's after those of the libraries it
bundles), each library's ``enums.js``, the generated ``model.js`` and the fixed ``app.js``,
and carries a navigation bar to every declared screen. A screen page names its screen in
``<body data-screen=...>``; ``app.js`` renders the rest. All text from the model is
HTML-escaped.
"""

from __future__ import annotations

from typing import Any

from oneclick.compiler.literals import html_text

SCREENS_DIR = "screens"
INDEX_URL = "/"


def screen_url(screen: dict[str, Any]) -> str:
    return f"/static/{SCREENS_DIR}/{screen['page']}"


def _head(spec: dict[str, Any], title: str) -> list[str]:
    lines = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html_text(title)}</title>",
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">',
        '<link rel="stylesheet" href="/static/style.css">',
    ]
    for library in spec["libraries"]:
        if library["styles"]:
            href = html_text(f"/libs/{library['name']}/styles.css")
            lines.append(f'<link rel="stylesheet" href="{href}">')
    for library in spec["libraries"]:
        src = html_text(f"/libs/{library['name']}/enums.js")
        lines.append(f'<script src="{src}" defer></script>')
    lines += [
        '<script src="/static/model.js" defer></script>',
        '<script src="/static/app.js" defer></script>',
        "</head>",
    ]
    return lines


def _navigation(spec: dict[str, Any], current: str | None) -> list[str]:
    lines = [
        '<header class="app-header">',
        f'<a class="app-title" href="{INDEX_URL}">{html_text(spec["title"])}</a>',
        '<nav aria-label="Screens"><ul>',
    ]
    for screen in spec["screens"]:
        marker = ' aria-current="page"' if screen["name"] == current else ""
        lines.append(
            f'<li><a href="{html_text(screen_url(screen))}"{marker}>'
            f"{html_text(screen['title'])}</a></li>"
        )
    lines += ["</ul></nav>", "</header>"]
    return lines


def render_index(spec: dict[str, Any]) -> str:
    """``static/index.html``: the app's title and a link to every screen."""
    lines = _head(spec, spec["title"])
    lines.append('<body data-screen="">')
    lines += _navigation(spec, None)
    lines += ["<main>", f"<h1>{html_text(spec['title'])}</h1>", '<ul class="screen-list">']
    for screen in spec["screens"]:
        kind = "list of" if screen["kind"] == "list" else "form for"
        lines.append(
            f'<li><a href="{html_text(screen_url(screen))}">{html_text(screen["title"])}</a> '
            f'<span class="hint">({kind} {html_text(screen["entity"])})</span></li>'
        )
    lines += ["</ul>", "</main>", "</body>", "</html>", ""]
    return "\n".join(lines)


def render_screen(spec: dict[str, Any], screen: dict[str, Any]) -> str:
    """``static/screens/<page>``: the shell that ``app.js`` fills for this screen."""
    lines = _head(spec, f"{screen['title']} · {spec['title']}")
    lines.append(f'<body data-screen="{html_text(screen["name"])}">')
    lines += _navigation(spec, screen["name"])
    lines += [
        "<main>",
        f"<h1>{html_text(screen['title'])}</h1>",
        f'<div id="screen" class="screen {html_text(screen["kind"])}">',
        "<noscript>This screen needs JavaScript.</noscript>",
        "</div>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(lines)
