"""Screenshots of the review queue and the corrections dashboard for the README.

    .venv/bin/python tools/screenshot_review.py [--out docs/screenshots] [--platform offscreen|xcb]

The bundled sample folder gets two recorded runs of a stand-in detector (planted, seeded boxes and
scores, through the same RunRecorder as a real run) and planted corrections (accepted, moved,
relabelled, deleted, added), so the numbers are made up; what the window does with them is real.
Writes review-queue.png (the window at 1280x720, list ordered "most uncertain first", after N) and
corrections-dashboard.png (the dashboard's own PNG export, 1200x800).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

from qt_pump import pump

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ("nodule", "effusion", "cardiomegaly")


def plant(folder: Path) -> None:
    from torch import nn

    from desktop.core.imaging import read_image
    from desktop.core.runs import RunRecorder
    from desktop.core.store import open_store
    from models.base import LoupeModel, ModelCard

    class Planted(LoupeModel):
        task = "detection"

    model = Planted(ModelCard(name="chest detector", architecture="planted", task="detection",
                              default_threshold=0.3), nn.Identity(), "cpu")
    rng = random.Random(16)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    store = open_store(folder)
    sizes = {}
    for p in files:
        try:
            sizes[p] = read_image(p).size
        except Exception:  # noqa: BLE001 - a sample the reader refuses is left out
            continue
    for run in range(2):
        rec = RunRecorder(store, model, threshold=0.3, origin="cli" if run == 0 else "window")
        for p, (w, h) in sizes.items():
            rows = [(rng.choice(CLASSES), rng.uniform(0, w * 0.7), rng.uniform(0, h * 0.7), w * 0.2, h * 0.2,
                     rng.uniform(0.08, 0.98)) for _ in range(rng.randint(1, 5))]
            rec.record(p.name, (w, h), rows)
        rec.finish()
        for p in list(sizes)[: 3 + 3 * run]:
            iid = store.image_id(p.name)
            for b in store.boxes(iid):
                if not b.is_prediction:
                    continue
                r = rng.random()
                if r < 0.4:
                    store.accept_predictions(iid, [b.id])
                elif r < 0.65:
                    store.update_box(b.id, x=b.x + rng.uniform(2, 20), w=b.w * rng.uniform(0.75, 1.2))
                elif r < 0.8:
                    store.update_box(b.id, category=rng.choice(CLASSES))
                else:
                    store.delete_box(b.id)
            if rng.random() < 0.6:
                store.add_box(iid, rng.choice(CLASSES), 10, 10, 40, 40)
            store.set_review_status(iid, "done")
    store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--platform", default="offscreen")
    args = ap.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.core.samples import ensure_samples
    from desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="loupe-review-shots-"))
    samples = ensure_samples(work / "samples")
    plant(samples)
    win = MainWindow(settings=QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    win.resize(1280, 720)
    win.show()
    win.open_folder(samples)
    pump(app, until=lambda: getattr(win.box_editor, "image_id", None) is not None and len(win.image_paths()) > 0)
    pump(app, seconds=0.5)
    win.image_list.order.choose("latest")
    win.review_queue.go_most_uncertain()
    pump(app, seconds=0.5)
    win.grab().save(str(out / "review-queue.png"))
    print("wrote", out / "review-queue.png")
    from desktop.ui.review.dashboard_dialog import open_dashboard

    dialog = open_dashboard(win)
    pump(app, seconds=0.3)
    dialog.save_png(str(out / "corrections-dashboard.png"))
    print("wrote", out / "corrections-dashboard.png")
    dialog.close()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
