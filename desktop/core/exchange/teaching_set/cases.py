"""What a teaching set exports: the folder's teaching cases, or every image when it has none.

A case here is the plain data the page needs: its images (store ids and paths), the case text
(history, findings, diagnosis, discussion, differential, keywords, difficulty, title) and the
expert boxes of each image. The cases come from the folder's case store (desktop.core.teaching,
decision 0140) when the folder has cases; a folder without cases exports each of its images as a
case whose findings are the image's caption (the teaching note of the caption box).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.exchange.errors import ExchangeError


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
    from desktop.core.teaching.scoring import normalise_diagnosis as rule

    return rule(text)


def folder_has_cases(store) -> bool:
    from desktop.core.teaching import CaseBook

    return CaseBook(store).count() > 0


def load_cases(store, case_ids=None) -> list[Case]:
    """The cases to export, in case-id order (or the order of `case_ids`, store case ids); every
    image of the folder, one case each, when the folder has no cases. An unknown id is an
    ExchangeError naming it."""
    if folder_has_cases(store):
        return _store_cases(store, case_ids)
    if case_ids:
        raise ExchangeError(f"{store.folder}: this folder has no teaching cases, so there is no case "
                            f"{', '.join(str(c) for c in case_ids)}; leave out --cases to export every image")
    return _image_cases(store)


def case_choices(store) -> list[tuple[int, str]]:
    """(case id, one line describing it) of every case, for the export dialog's list."""
    from desktop.core.teaching import CaseBook

    out = []
    for case in CaseBook(store).cases():
        n = len(case.image_ids)
        out.append((case.id, f"{case.name()[:80]} ({n} image{'s' if n != 1 else ''})"))
    return out


def expert_boxes(store, image_id: int | None) -> list[ExpertBox]:
    """The boxes a person drew or accepted on the image (what the COCO export writes and the
    quiz scores against: CaseBook.expert_marks), not the model's unreviewed predictions nor
    deleted boxes."""
    if image_id is None:
        return []
    return [ExpertBox(b.category, b.x, b.y, b.w, b.h) for b in store.boxes(image_id)
            if not b.deleted and not b.is_prediction]


def difficulty_text(value) -> str:
    from desktop.core.teaching import DIFFICULTY

    if value is None or value == "":
        return ""
    try:
        return DIFFICULTY[int(value)].capitalize()
    except (TypeError, ValueError, KeyError):
        return str(value)


def _store_cases(store, case_ids) -> list[Case]:
    from desktop.core.teaching import CaseBook

    book = CaseBook(store)
    every = book.cases()
    if case_ids is not None:
        wanted = [int(c) for c in case_ids]
        known = {c.id for c in every}
        missing = [c for c in wanted if c not in known]
        if missing:
            raise ExchangeError(f"{store.folder}: no teaching case {', '.join(map(str, missing))} "
                                f"(the cases are {', '.join(str(c.id) for c in every) or 'none'})")
        every = book.cases(wanted)
    out = []
    for c in every:
        images = [CaseImage(store.image(i).rel_path, i) for i in c.image_ids]
        out.append(Case(c.id, images, c.title, c.history, c.findings, c.diagnosis, c.discussion,
                        list(c.differential), list(c.keywords), difficulty_text(c.difficulty)))
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
