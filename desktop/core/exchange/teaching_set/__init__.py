"""`loupe export FOLDER --format teaching --out DIR`: a teaching set that opens in any browser.

The output folder holds `index.html` (the page, its scripts and the data; decision 0145),
`images/case-001.png` ... (each case's images rendered with the chosen window, and the other
windows as `case-001-w2.png` ...) and `manifest.json` (what was exported). With `zip_file=True` a
`DIR.zip` of that folder is written beside it. Nothing in it names the patient: images are named
after the case number, the PNGs carry no metadata, the page holds only the case text and the
boxes; source paths appear in the manifest only with `keep_paths=True`. Images whose pixels may
show burned-in text are reported (`burned_in_images`) and left out with
`leave_out_burned_in=True`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.exchange.errors import ExchangeError
from desktop.core.exchange.naming import record_mapping
from desktop.core.exchange.paths import path_problem
from desktop.core.exchange.teaching_set.cases import (
    Case,
    case_choices,
    expert_boxes,
    folder_has_cases,
    load_cases,
)
from desktop.core.exchange.teaching_set.page import build_page
from desktop.core.exchange.teaching_set.render import parse_window, render_image
from desktop.core.imaging import ImageReadError

MANIFEST_FORMAT = "loupe-teaching-set"
MAX_CHOICES = 5
MAX_SIDE = 2048  # px: a film larger than this is written scaled down (a screen shows no more)


@dataclass
class BurnedIn:
    case_number: int       # 1-based, in export order
    case_key: int | None   # the store's case id (None: the folder has no cases)
    image_number: int      # 1-based within the case
    reason: str
    rel_path: str          # for the educator's screen only; never written into the set

    def line(self) -> str:
        where = (f"case {self.case_key}, image {self.image_number}" if self.case_key is not None
                 else f"image {self.case_number} of the folder")
        return f"{where} ({self.rel_path}): {self.reason}"


@dataclass
class TeachingSetResult:
    folder: Path
    zip_path: Path | None
    cases: int
    images: int
    left_out: list[BurnedIn] = field(default_factory=list)
    burned_in_kept: list[BurnedIn] = field(default_factory=list)
    unreadable: list[BurnedIn] = field(default_factory=list)  # damaged films, left out with the reason
    warnings: list[str] = field(default_factory=list)


def burned_in_images(store, case_ids=None) -> list[BurnedIn]:
    """The images of the cases to export whose pixels may show a name or an ID (BurnedInAnnotation
    YES, or US / SC / OT; desktop.core.phi), read from their headers alone: what the CLI lists and
    the dialog offers to leave out before anything is written."""
    from desktop.core.phi import burned_in_warning_for

    folder = Path(store.folder)
    out = []
    for n, case in enumerate(load_cases(store, case_ids), start=1):
        for k, im in enumerate(case.images, start=1):
            reason = burned_in_warning_for(folder / im.rel_path)
            if reason:
                out.append(BurnedIn(n, case.key, k, reason, im.rel_path))
    return out


def export_teaching_set(store, out, **options) -> TeachingSetResult:
    """Write the teaching set into the folder `out`; see `_export` for the options. A folder that
    cannot be written (read-only, disk full) is an ExchangeError naming it and the reason."""
    from desktop.core.exchange.coco_export import write_reason

    try:
        return _export(store, out, **options)
    except OSError as exc:
        where = exc.filename or out
        raise ExchangeError(f"{where}: cannot write the teaching set: {write_reason(exc)}") from None


def _export(store, out, *, case_ids=None, window=None, leave_out_burned_in: bool = False,
                        leave_out: set | None = None, keep_paths: bool = False, zip_file: bool = False,
                        title: str = "Teaching set", quiz: bool = True, max_side: int | None = MAX_SIDE,
                        labels=None, progress: Callable[[int, int, str], None] | None = None) -> TeachingSetResult:
    """Write the teaching set into the folder `out` (created; a previous teaching set there is
    replaced whole, any other non-empty folder is refused). `window`: None (each file's own),
    a CT preset name or (center, width), for DICOM images. `leave_out_burned_in` leaves out every
    image `burned_in_images` lists. `max_side`: films larger than that (px, longer side) are
    written scaled down; None or 0 keeps every pixel. `labels`: the labels the learner marks with
    (None: those of the exported boxes). `leave_out`: the images (paths relative to the folder)
    to leave out, as the dialog's check boxes choose. `progress(done, total, message)` is called per
    image (and may raise to cancel: nothing is left behind)."""
    folder, out = Path(store.folder), Path(out)
    window = parse_window(window)
    cases = load_cases(store, case_ids)
    if not cases:
        raise ExchangeError(f"{folder}: no images to put in a teaching set (open a folder of images)")
    _check_out(out, folder)
    for case in cases:
        for im in case.images:
            refused = path_problem(im.rel_path)
            if refused:
                raise ExchangeError(f"{folder}: {refused}; nothing was exported")
    burned = {(b.case_number, b.image_number): b for b in burned_in_images(store, case_ids)}
    skip_paths = set(leave_out or ())
    skip = {key for key, b in burned.items() if leave_out_burned_in or b.rel_path in skip_paths}
    total = sum(len(c.images) for c in cases)
    result = TeachingSetResult(out, None, 0, 0)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        images_dir = work / "images"
        images_dir.mkdir()
        page_cases, manifest_cases, names, rels = [], [], {}, {}
        done = 0
        for n, case in enumerate(cases, start=1):
            kept = []
            for k, im in enumerate(case.images, start=1):
                if progress:
                    progress(done, total, "Images rendered")
                done += 1
                if (n, k) in skip or im.rel_path in skip_paths:
                    result.left_out.append(burned.get((n, k)) or BurnedIn(n, case.key, k, "left out by choice",
                                                                          im.rel_path))
                    continue
                kept.append((k, im))
            if not kept:
                continue
            number = len(page_cases) + 1
            page_images, manifest_images, case_boxes = [], [], []
            for k, im in kept:
                j = len(page_images) + 1  # the case's images that could be read, numbered from 1
                stem = f"case-{number:03d}" if j == 1 else f"case-{number:03d}-{j}"
                try:
                    rendered = render_image(folder / im.rel_path, images_dir, stem, window, max_side=max_side)
                except ImageReadError as exc:  # a damaged film: the rest of the set still gets made
                    for stray in images_dir.glob(f"{stem}.png"):
                        stray.unlink()
                    for stray in images_dir.glob(f"{stem}-w*.png"):
                        stray.unlink()
                    result.unreadable.append(BurnedIn(n, case.key, k, f"cannot be read: {exc.reason}", im.rel_path))
                    continue
                boxes = expert_boxes(store, im.image_id)
                page_images.append(_page_image(rendered))
                manifest_images.append(_manifest_image(rendered, len(boxes), im.rel_path if keep_paths else None))
                if rendered.burned_in and (n, k) in burned:
                    result.burned_in_kept.append(burned[(n, k)])
                if im.image_id is not None:
                    names[im.image_id] = Path(rendered.variants[0].file).name
                    rels[im.image_id] = im.rel_path
                case_boxes += [{"label": b.label, "x": b.x, "y": b.y, "w": b.w, "h": b.h, "image": j - 1}
                               for b in boxes]
                result.images += 1
            if not page_images:
                continue
            page_cases.append(_page_case(case, number, page_images, case_boxes))
            manifest_cases.append({"case": f"case-{number:03d}", "case_id": case.key, "images": manifest_images})
        if progress:
            progress(total, total, "Images rendered")
        if not page_cases:
            why = "; ".join(b.line() for b in result.unreadable[:3])
            raise ExchangeError(f"{folder}: every image was left out or could not be read; nothing was exported"
                                + (f" ({why})" if why else ""))
        _add_choices(page_cases, [m["case_id"] for m in manifest_cases])
        labels = _labels(store, page_cases, labels)
        data = {"title": title.strip() or "Teaching set", "quiz": bool(quiz), "labels": labels,
                "cases": page_cases}
        (work / "index.html").write_text(build_page(data), encoding="utf-8")
        manifest = {"format": MANIFEST_FORMAT, "version": 1, "title": data["title"],
                    "exported": time.strftime("%Y-%m-%d %H:%M", time.localtime()),
                    "window": "each file's own" if window is None else
                              {"name": window.name, "center": window.center, "width": window.width},
                    "source_paths": bool(keep_paths), "cases": manifest_cases,
                    "left_out": [{"case_id": b.case_key, "case_number": b.case_number, "image": b.image_number,
                                  "reason": b.reason} | ({"source": b.rel_path} if keep_paths else {})
                                 for b in result.left_out + result.unreadable]}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
        os.chmod(work, 0o755)
        _replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    result.cases = len(page_cases)
    if zip_file:
        result.zip_path = write_zip(out)
    record_mapping(store, names, rels)
    for b in result.burned_in_kept:
        result.warnings.append(f"warning: {b.line()} may show the patient's name or ID in its pixels")
    for b in result.unreadable:
        result.warnings.append(f"left out: {b.line()}")
    return result


def _page_image(rendered) -> dict:
    return {"width": rendered.width, "height": rendered.height, "modality": rendered.modality,
            "windows": [{"name": v.name, "src": v.file,
                         "detail": "" if v.center is None else f"centre {v.center:g}, width {v.width:g}"}
                        for v in rendered.variants]}


def _manifest_image(rendered, boxes: int, source: str | None) -> dict:
    entry = {"file": rendered.variants[0].file, "width": rendered.width, "height": rendered.height,
             "windows": [v.manifest() for v in rendered.variants], "boxes": boxes}
    if rendered.png_size != (rendered.width, rendered.height):
        entry["png_size"] = list(rendered.png_size)  # scaled down (max_side); boxes stay in film pixels
    if rendered.burned_in:
        entry["burned_in_text"] = rendered.burned_in
    if source is not None:
        entry["source"] = source
    return entry


def _page_case(case: Case, number: int, images: list[dict], boxes: list[dict]) -> dict:
    return {"number": number, "title": case.title,
            "fields": {"history": case.history, "findings": case.findings, "diagnosis": case.diagnosis,
                       "discussion": case.discussion, "differential": case.differential,
                       "keywords": case.keywords, "difficulty": case.difficulty},
            "images": images, "boxes": boxes, "choices": []}


def _add_choices(page_cases: list[dict], keys: list) -> None:
    """The diagnoses offered for each case, as the app's quiz offers them
    (desktop.core.teaching.diagnosis_choices: the case's own and up to four other cases'
    diagnoses, in an order shuffled by the case's number)."""
    from desktop.core.teaching import diagnosis_choices

    everyone = [c["fields"]["diagnosis"] for c in page_cases]
    for c, key in zip(page_cases, keys):
        seed = key if key is not None else c["number"]
        choices = diagnosis_choices(c["fields"]["diagnosis"], everyone, count=MAX_CHOICES, seed=seed)
        c["choices"] = choices if len(choices) > 1 else []


def _labels(store, page_cases: list[dict], chosen=None) -> list[dict]:
    """The labels the learner marks with, with their colours: `chosen` (the educator's set, as the
    app's quiz takes it: distractors welcome; an expert box whose label is not among them can only
    be missed) in that order, or the labels of the exported expert boxes in the folder's order."""
    colours = {cat.name: cat.color for cat in store.categories()}
    if chosen is not None:
        names = list(dict.fromkeys(n.strip() for n in chosen if n and n.strip()))
        return [{"name": n, "color": colours.get(n, "#56B4E9")} for n in names]
    used = {b["label"] for c in page_cases for b in c["boxes"]}
    out = [{"name": cat.name, "color": cat.color} for cat in sorted(store.categories(), key=lambda c: (c.order, c.id))
           if cat.name in used]
    known = {x["name"] for x in out}
    out += [{"name": name, "color": "#56B4E9"} for name in sorted(used - known)]
    return out


def _check_out(out: Path, folder: Path) -> None:
    try:
        inside = out.resolve().is_relative_to(folder.resolve())
    except OSError:
        inside = False
    if inside:
        raise ExchangeError(f"{out}: the teaching set must go outside the image folder {folder} "
                            "(its images would become part of the folder)")
    if out.exists():
        if not out.is_dir():
            raise ExchangeError(f"{out}: exists and is not a folder")
        if any(out.iterdir()) and not _is_teaching_set(out):
            raise ExchangeError(f"{out}: the folder is not empty and holds no earlier teaching set; "
                                "choose an empty or new folder")


def _is_teaching_set(path: Path) -> bool:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("format") == MANIFEST_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _replace(work: Path, out: Path) -> None:
    """Put the finished set in place; an earlier set there goes whole (its images too, so an image
    left out this time cannot stay behind from the last export)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(work, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_zip(folder: Path) -> Path:
    """`folder.zip` beside the folder, the folder inside it under its own name. PNGs are stored as
    they are (deflate would spend seconds on them for a percent); the page and manifest deflated."""
    target = folder.with_name(folder.name + ".zip")
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                kind = zipfile.ZIP_STORED if path.suffix == ".png" else zipfile.ZIP_DEFLATED
                z.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}", compress_type=kind)
    os.replace(tmp, target)
    return target


__all__ = ["export_teaching_set", "burned_in_images", "TeachingSetResult", "BurnedIn", "case_choices",
           "folder_has_cases", "load_cases"]
