"""Screenshots of a teaching set's page for the README, in headless Chromium.

    .venv/bin/python tools/teaching_screenshots.py [--out docs/screenshots] [--keep DIR]

Builds a small teaching folder in a temporary directory from the public films in ../shared/data
(three NIH ChestX-ray14 radiographs with their published boxes, and a CT from the NEMA samples),
gives them illustrative case text (written for the screenshot, not the patients' histories),
exports it with `export_teaching_set` (what `loupe export --format teaching` calls), then opens
index.html from the file system and saves, at 1280x720 (and with --also-1080 at 1920x1080 too,
as *-1080.png, to look at; the README shows the 1280x720 ones):

- teaching-set-question.png: a case as the learner first sees it (history, labels, choices);
- teaching-set-answer.png: the same case after a mark was drawn and the answer checked (score,
  the expert box over the learner's mark, the revealed findings and discussion).

`--keep DIR` also keeps the exported set (and its zip) there.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

CASES = [  # (file, NIH label, case fields); the text is illustrative, written for the screenshot
    ("nih/images/00000150_002.png", "Pneumonia", dict(
        title="Lobar consolidation",
        history="Four days of fever, productive cough and right-sided pleuritic chest pain. "
                "Crackles at the right base.",
        findings="Airspace consolidation in the right lower zone with air bronchograms; the heart size "
                 "is normal and there is no pleural effusion.",
        diagnosis="Pneumonia", differential=["Atelectasis", "Pulmonary infarct", "Organising pneumonia"],
        discussion="Consolidation with air bronchograms in a febrile patient is pneumonia until proven "
                   "otherwise. Follow-up films after treatment should show clearing within 6-8 weeks; "
                   "persistent opacity calls for further imaging to exclude an underlying lesion.",
        keywords=["consolidation", "air bronchogram", "chest radiograph"], difficulty=2)),
    ("nih/images/00000468_017.png", "Atelectasis", dict(
        title="Plate-like opacity",
        history="Day two after abdominal surgery; low-grade fever and shallow breathing.",
        findings="A linear, plate-like opacity at the left base.",
        diagnosis="Atelectasis", differential=["Pneumonia", "Scarring"],
        discussion="Subsegmental atelectasis is common after surgery and usually resolves with "
                   "physiotherapy and mobilisation.",
        keywords=["atelectasis", "postoperative"], difficulty=3)),
    ("nih/images/00000211_016.png", "Infiltrate", dict(
        title="Patchy opacities",
        history="Cough and breathlessness for two weeks.",
        findings="Patchy ill-defined opacities in the right mid and lower zones.",
        diagnosis="Infiltrate", differential=["Pneumonia", "Pulmonary oedema"],
        keywords=["infiltrate"], difficulty=4)),
    ("dicom/693_UNCR.dcm", None, dict(
        title="CT windows",
        history="An axial CT slice: switch the window (W, or the buttons under the image) between the "
                "file's own setting and the lung, mediastinum, bone and brain windows.",
        discussion="The same Hounsfield values, four ways: a window shows a range of densities in grey "
                   "and clips the rest to black or white.",
        keywords=["window", "Hounsfield units"], difficulty=1)),
]


def build_folder(root: Path) -> Path:
    from desktop.core.imaging import read_image
    from desktop.core.store import open_store
    from desktop.core.teaching import CaseBook

    folder = root / "films"
    folder.mkdir(parents=True)
    boxes = {}
    with open(DATA / "nih" / "BBox_List_2017.csv", newline="") as f:
        for row in csv.reader(f):
            if row and row[0].endswith(".png"):
                boxes.setdefault(row[0], []).append((row[1], *map(float, row[2:6])))
    with open_store(folder) as store:
        book = CaseBook(store)
        for k, (rel, label, fields) in enumerate(CASES, start=1):
            src = DATA / rel
            dst = folder / f"{k:02d}{src.suffix}"
            shutil.copyfile(src, dst)
            w, h = read_image(dst).size
            image_id = store.ensure_image(dst.name, w, h)
            for name, x, y, bw, bh in boxes.get(src.name, []):
                if label is None or name == label:
                    store.add_box(image_id, name, x, y, bw, bh)
            book.create([image_id], **fields)
    return folder


def shoot(index: Path, out: Path, size: tuple[int, int], suffix: str) -> list[Path]:
    from browser_helpers import Browser

    written = []
    with Browser(*size) as b:
        b.open(index)
        written.append(b.screenshot(out / f"teaching-set-question{suffix}.png"))
        # the learner marks the consolidation a little off the expert box, picks a diagnosis, checks
        r, (w, h) = b.rect("#frame"), (1024, 1024)
        x0, y0, x1, y1 = 585, 610, 800, 790
        b.drag(r["x"] + x0 * r["width"] / w, r["y"] + y0 * r["height"] / h,
               r["x"] + x1 * r["width"] / w, r["y"] + y1 * r["height"] / h)
        b.click("label.choice:has(input[value='Pneumonia'])")
        b.click("#check")
        b.js("document.activeElement && document.activeElement.blur()")
        written.append(b.screenshot(out / f"teaching-set-answer{suffix}.png"))
        problems = b.problems()
        if problems:
            raise SystemExit("the page reported problems: " + "; ".join(problems))
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--keep", help="also keep the exported teaching set in this folder")
    parser.add_argument("--also-1080", action="store_true", help="also shoot at 1920x1080 (*-1080.png)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the public films in {DATA}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_helpers import SKIP_REASON, find_chromium

    if find_chromium() is None:
        print(SKIP_REASON, file=sys.stderr)
        return 2
    from desktop.core.exchange.teaching_set import export_teaching_set
    from desktop.core.store import open_store

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loupe-teaching-") as tmp:
        folder = build_folder(Path(tmp))
        target = Path(args.keep) if args.keep else Path(tmp) / "set"
        with open_store(folder) as store:
            export_teaching_set(store, target, title="Chest radiology: Monday film reading", zip_file=bool(args.keep))
        sizes = [((1280, 720), "")] + ([((1920, 1080), "-1080")] if args.also_1080 else [])
        for size, suffix in sizes:
            for path in shoot(target / "index.html", out, size, suffix):
                print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
