"""Screenshot of assisted annotation for the README: the real window on the sample folder, a
segment-anything folder with seeded random weights (tiny, so no weights are downloaded; its masks
are meaningless but show what the editor does), assist mode on, a click and a Shift+click.

    xvfb-run -s "-screen 0 1380x820x24" .venv/bin/python tools/assist_screenshots.py --platform xcb
    .venv/bin/python tools/assist_screenshots.py --size 1920x1080      (offscreen; the panels keep the
    first-start layout of the default size, so check other sizes with the real app)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from qt_pump import pump

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def click(app, win, x: float, y: float, shift: bool = False) -> None:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    canvas = win.canvas
    vp = canvas.viewport()
    pos = QPointF(canvas.mapFromScene(QPointF(x, y)))
    mods = Qt.ShiftModifier if shift else Qt.NoModifier
    for kind, buttons in ((QEvent.MouseButtonPress, Qt.LeftButton), (QEvent.MouseButtonRelease, Qt.NoButton)):
        QApplication.sendEvent(vp, QMouseEvent(kind, pos, QPointF(vp.mapToGlobal(pos.toPoint())), Qt.LeftButton,
                                               buttons, mods))
    assist = win.box_editor.assist
    seq = assist.engine._seq
    pump(app, until=lambda: assist.result is not None and assist.result.seq >= seq, timeout=60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "assist-click-to-box.png"))
    ap.add_argument("--platform", default="offscreen", help="Qt platform: offscreen or xcb (under Xvfb)")
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    width, height = (int(v) for v in args.size.split("x"))

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.core.samples import ensure_samples
    from desktop.ui.main_window import MainWindow
    from models.segmentation.tiny import write_tiny_folder

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="loupe-assist-shots-"))
    models = work / "models"
    write_tiny_folder(models / "medsam-vit-base", "sam", "medsam", image_size=256, seed=3)
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("models/folder", str(models))
    win = MainWindow(settings=settings)
    win.resize(width, height)
    win.show()
    win.open_folder(ensure_samples(work / "samples"))
    pump(app, until=lambda: win.current_path() is not None and win.box_editor.image_id is not None, timeout=30)
    chest = [p for p in win.image_paths() if "chest" in Path(p).name.lower()]
    if chest:
        win.show_image(chest[0])
    editor = win.box_editor
    assist = editor.assist
    assist.dock.show()
    assist.dock.raise_()
    editor.store.set_label_set(["nodule", "effusion", "cardiomegaly"])
    editor.current_category = "cardiomegaly"
    assist.panel.mode_button.setChecked(True)  # loads MedSAM's folder from the models folder
    pump(app, until=lambda: assist.engine.embedding(editor.image_path) is not None, timeout=120)
    w, h = editor.image_size()
    click(app, win, w * 0.55, h * 0.55)
    click(app, win, w * 0.2, h * 0.2, shift=True)
    pump(app, seconds=0.5)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(out))
    print("wrote", out)
    assist.engine.wait(5000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
