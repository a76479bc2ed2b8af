"""Screenshots of File ▸ Import annotations… and File ▸ Export… for the README, over the real
window at 1280x720: the import's preview (label renaming, the report of problems), an import and
a Roboflow export part way (the progress bar counting boxes / images, Cancel).

    .venv/bin/python tools/screenshot_dialogs.py [--out docs/screenshots]

Uses the real NIH ChestX-ray14 images and `BBox_List_2017.csv` from ../shared/data/nih when they are
there (the generated sample folder otherwise). Starts its own Xvfb like screenshot_viewer.py (Qt's
offscreen platform without it); settings and folders live in a temporary directory. A dialog is
painted over the window's own picture where a window manager would centre it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from qt_pump import pump
from screenshot_viewer import ROOT, SIZE, start_xvfb

NIH = ROOT.parent / "shared" / "data" / "nih"


def composite(win, dialog, out: Path) -> Path:
    """The window's picture with the dialog's over its centre, a frame and a title bar around it."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QPainter

    picture = win.grab()
    inner = dialog.grab()
    bar = 26
    w, h = inner.width() + 2, inner.height() + bar + 1
    x, y = (picture.width() - w) // 2, max(8, (picture.height() - h) // 2)
    p = QPainter(picture)
    p.fillRect(x + 4, y + 4, w, h, QColor(0, 0, 0, 60))  # a soft shadow
    p.fillRect(x, y, w, h, QColor("#5a5f66"))
    p.fillRect(x + 1, y + 1, w - 2, bar - 1, QColor("#e8e8e8"))
    font = QFont(dialog.font())
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor("#222"))
    p.drawText(QRect(x + 1, y + 1, w - 2, bar - 1), Qt.AlignmentFlag.AlignCenter, dialog.windowTitle())
    p.drawPixmap(x + 1, y + bar, inner)
    p.end()
    picture.save(str(out), "PNG")
    if out.stat().st_size > 300_000:  # a palette PNG keeps the text legible at a fraction of the size
        from PIL import Image

        Image.open(out).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print("wrote", out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
    return out


def hold_part_way(module, stage: str) -> threading.Event:
    """The dialog's next job waits after its first count of `stage` (neither 0 nor the total)
    until the returned event is set: the shot shows the bar part way."""
    release = threading.Event()
    real = module.job_progress

    def job_progress(ctx):
        inner = real(ctx)

        def progress(done, total, text):
            inner(done, total, text)
            if text == stage and 0 < done < total:
                time.sleep(0.1)  # past the job's progress throttle: this count reaches the bar
                inner(done, total, text)
                release.wait(30)

        return progress

    module.job_progress = job_progress
    return release


def folder_and_files(work: Path) -> tuple[Path, Path, Path]:
    """(image folder, a COCO file with a few problems, a large box list) for the shots."""
    folder = work / "nih"
    if (NIH / "images").is_dir() and (NIH / "BBox_List_2017.csv").is_file():
        shutil.copytree(NIH / "images", folder)
        box_list = NIH / "BBox_List_2017.csv"
    else:
        from desktop.core.samples import ensure_samples

        shutil.copytree(ensure_samples(work / "samples"), folder)
        box_list = work / "BBox_List_2017.csv"
        rows = ["Image Index,Finding Label,Bbox [x,y,w,h],,,"]
        rows += [f"other_{k:05d}.png,Mass,{k % 500},{k % 400},60,40" for k in range(5000)]
        box_list.write_text("\n".join(rows) + "\n")
    images = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in (".png", ".dcm"))[:2]
    coco = {"images": [{"id": k + 1, "file_name": name, "width": 1024, "height": 1024}
                       for k, name in enumerate(images)] + [{"id": 9, "file_name": "gone_0001.png"}],
            "categories": [{"id": 1, "name": "Mass"}, {"id": 2, "name": "Cardiomegaly"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 2, "bbox": [380, 520, 410, 260]},
                            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [900, 500, 200, 80]},
                            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [300, 400, -5, 80]},
                            {"id": 4, "image_id": 2, "category_id": 1, "bbox": [610, 300, 90, 70]}]}
    reader = work / "reader-study.coco.json"
    reader.write_text(json.dumps(coco))
    return folder, reader, box_list


def shoot(out_dir: Path, work: Path) -> list[Path]:
    """The three shots; `work` holds the folder, the files and the settings."""
    os.environ["LOUPE_SETTINGS"] = str(work / "settings.ini")
    sys.path.insert(0, str(ROOT))
    from desktop.ui.app import make_app
    from desktop.ui.main_window import MainWindow

    app = make_app()
    folder, reader, box_list = folder_and_files(work)
    win = MainWindow()
    win.resize(*SIZE)
    win.show()
    win.open_folder(folder)
    editor = win.box_editor
    pump(app, lambda: win.current_image() is not None and editor.image_id is not None)
    for path in win.image_paths():  # the store knows every image (they were all looked at)
        editor.store.ensure_image(os.path.relpath(path, folder), 1024, 1024)
    pump(app, seconds=1.0)
    shots = []

    import desktop.ui.dialogs.export_dialog as export_dialog
    import desktop.ui.dialogs.import_dialog as import_dialog
    from desktop.ui.dialogs import open_export, open_import

    # 1. the import's preview: renamed labels, what it would do, the problems
    dialog = open_import(win)
    dialog.resize(1000, dialog.height())  # the problems' lines whole
    dialog.mapping_edit.setText("Mass=Nodule/Mass; Nodule=Nodule/Mass")
    dialog.set_path(str(reader))
    pump(app, lambda: dialog.job.state == "done")
    pump(app, seconds=0.3)
    shots.append(composite(win, dialog, out_dir / "import-dialog.png"))

    # 2. the NIH box list imported, part way: the boxes checked of all the list's rows
    dialog.mapping_edit.setText("")
    dialog.set_path(str(box_list))
    pump(app, lambda: dialog.job.state == "done")
    release = hold_part_way(import_dialog, "boxes checked")
    job = dialog.run_import()
    pump(app, lambda: dialog.progress.bar.format() == "Boxes checked: 500 / 984"
         or dialog.progress.bar.value() > 0, timeout=60)
    dialog.adjustSize()
    pump(app, seconds=0.3)
    shots.append(composite(win, dialog, out_dir / "import-progress.png"))
    release.set()
    pump(app, lambda: job.state == "done", timeout=120)
    dialog.close()

    # 3. a Roboflow split part way: images written of all, Cancel
    dialog = open_export(win)
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("roboflow"))
    dialog.all_images.setChecked(True)
    dialog.out_edit.setText(str(work / "dataset"))
    release = hold_part_way(export_dialog, "images written")
    job = dialog.run_export()
    pump(app, lambda: dialog.progress.bar.format().startswith("Images written: ")
         and dialog.progress.bar.value() > 0, timeout=60)
    dialog.adjustSize()
    pump(app, seconds=0.3)
    shots.append(composite(win, dialog, out_dir / "export-dialog.png"))
    release.set()
    pump(app, lambda: job.state == "done", timeout=120)
    dialog.close()
    win.close()
    return shots


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    xvfb = start_xvfb() if not os.environ.get("DISPLAY") else None
    if xvfb is None and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="loupe-") as tmp:
            work = Path(tmp, "demo")  # the path the dialogs show
            work.mkdir()
            shoot(args.out, work)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
