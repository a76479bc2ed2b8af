"""What a teaching set exports: the folder's teaching cases, or every image when it has none.

A case here is the plain data the page needs: its images (store ids and paths), the case text
(history, findings, diagnosis, discussion, differential, keywords, difficulty, title) and the
expert boxes of each image. The cases come from the folder's case store (desktop.core.teaching,
decision 0140) when the folder has cases; a folder without cases exports each of its images as a
case whose findings are the image's caption (the teaching note of the caption box).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.exchange.errors import ExchangeError

FIELDS = ("history", "findings", "diagnosis", "discussion", "differential", "keywords", "difficulty")
DIFFICULTY = {1: "Very easy", 2: "Easy", 3: "Moderate", 4: "Hard", 5: "Very hard"}


@dataclass
class ExpertBox:
    label: str
    x: float
    y: float
    w: float
    h: float


@dataclass
class CaseImage:
    rel_path: str
    image_id: int | None  # None: an image the store has not seen yet (no boxes)


@dataclass
class Case:
    key: int | None  # the store's case id; None when the folder has no cases (one image per case)
    images: list[CaseImage]
    title: str = ""
    history: str = ""
    findings: str = ""
    diagnosis: str = ""
    discussion: str = ""
    differential: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    difficulty: str = ""


def normalise_diagnosis(text) -> str:
    """What diagnoses are compared on (the quiz's rule, desktop.core.teaching.scoring): trimmed,
    runs of white space as one space, lower case."""
    return " ".join(str(text or "").split()).lower()


def folder_has_cases(store) -> bool:
    return _has_table(store, "cases") and store.conn.execute(
        "SELECT 1 FROM cases WHERE deleted = 0 LIMIT 1").fetchone() is not None


def load_cases(store, case_ids=None) -> list[Case]:
    """The cases to export, in case-id order: `case_ids` (an iterable of store case ids) or all of
    them; every image of the folder, one case each, when the folder has no cases. An unknown id is
    an ExchangeError naming it."""
    if folder_has_cases(store):
        return _store_cases(store, case_ids)
    if case_ids:
        raise ExchangeError(f"{store.folder}: this folder has no teaching cases, so there is no case "
                            f"{', '.join(str(c) for c in case_ids)}; leave out --cases to export every image")
    return _image_cases(store)


def case_choices(store) -> list[tuple[int, str]]:
    """(case id, one line describing it) of every case, for the export dialog's list."""
    if not folder_has_cases(store):
        return []
    out = []
    for case in _store_cases(store, None):
        text = case.title or case.diagnosis or (case.history.splitlines() or [""])[0]
        n = len(case.images)
        out.append((case.key, f"Case {case.key}: {text[:80] or 'untitled'} ({n} image{'s' if n != 1 else ''})"))
    return out


def expert_boxes(store, image_id: int | None) -> list[ExpertBox]:
    """The boxes a person drew or accepted on the image (what the COCO export writes), not the
    model's unreviewed predictions nor deleted boxes."""
    if image_id is None:
        return []
    return [ExpertBox(b.category, b.x, b.y, b.w, b.h) for b in store.boxes(image_id)
            if not b.deleted and b.state != "unreviewed"]


def difficulty_text(value) -> str:
    if value is None or value == "":
        return ""
    try:
        return DIFFICULTY.get(int(value), str(value))
    except (TypeError, ValueError):
        return str(value)


def _store_cases(store, case_ids) -> list[Case]:
    rows = store.conn.execute(
        "SELECT id, title, history, findings, diagnosis, discussion, differential, keywords, difficulty "
        "FROM cases WHERE deleted = 0 ORDER BY id").fetchall()
    if case_ids is not None:
        wanted = [int(c) for c in case_ids]
        known = {r[0] for r in rows}
        missing = [c for c in wanted if c not in known]
        if missing:
            raise ExchangeError(f"{store.folder}: no teaching case {', '.join(map(str, missing))} "
                                f"(the cases are {', '.join(str(r[0]) for r in rows) or 'none'})")
        keep = set(wanted)
        rows = [r for r in rows if r[0] in keep]
    out = []
    for cid, title, history, findings, diagnosis, discussion, differential, keywords, difficulty in rows:
        images = [CaseImage(rel, iid) for iid, rel in store.conn.execute(
            "SELECT i.id, i.rel_path FROM case_images ci JOIN images i ON i.id = ci.image_id "
            "WHERE ci.case_id = ? ORDER BY ci.ord, i.id", (cid,))]
        out.append(Case(cid, images, title or "", history or "", findings or "", diagnosis or "",
                        discussion or "", _text_list(differential), _text_list(keywords),
                        difficulty_text(difficulty)))
    return out


def _image_cases(store) -> list[Case]:
    from desktop.core.folder import scan_folder

    folder = Path(store.folder)
    out = []
    for batch in scan_folder(folder):
        for path in batch:
            rel = path.relative_to(folder.resolve()).as_posix()
            image_id = store.image_id(rel)
            caption = store.caption(image_id) if image_id is not None else ""
            out.append(Case(None, [CaseImage(rel, image_id)], findings=caption or ""))
    return out


def _text_list(value) -> list[str]:
    if isinstance(value, list | tuple):
        items = value
    else:
        try:
            items = json.loads(value or "[]")
        except (TypeError, ValueError):
            items = [value]
        if not isinstance(items, list):
            items = [items]
    return [str(v).strip() for v in items if str(v).strip()]


def _has_table(store, name: str) -> bool:
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (name,)).fetchone() is not None
