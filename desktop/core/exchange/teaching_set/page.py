"""The page of a teaching set: one `index.html` holding its CSS, its scripts and the set's data.

A page opened from the file system cannot fetch() a JSON file in Chromium, so the data travels in
the page as `<script type="application/json">`, which the browser never runs. The JSON is written
with `<`, `>` and `&` as \\u escapes, so no case text can close that element; the page's script puts
every text in with textContent. The page's Content-Security-Policy allows only its own nonce-marked
scripts and styles, its images, and no connection at all (decision 0145).
"""

from __future__ import annotations

import html
import json
import secrets
from string import Template

from models.resources import resources_dir

ASSETS = ("index.html", "teaching.css", "teaching.js", "quiz_score.js")


def asset(name: str) -> str:
    path = resources_dir() / "teaching" / name
    return path.read_text(encoding="utf-8")


def embed_json(data) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` characters at all."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def build_page(data: dict) -> str:
    nonce = secrets.token_urlsafe(18)
    return Template(asset("index.html")).substitute(
        nonce=nonce, title=html.escape(data.get("title") or "Teaching set"), css=asset("teaching.css"),
        data=embed_json(data), score_js=asset("quiz_score.js"), page_js=asset("teaching.js"))
