"""Screenshots of the real window for the README: open the sample folder, run models, save PNGs.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]
    xvfb-run -s "-screen 0 1380x820x24" .venv/bin/python tools/screenshots.py --platform xcb   (a real X server)

Every shot is the window at 1280x720. viewer.png comes from tools/screenshot_viewer.py (run first).

Runs offscreen by default. Models are the presets with seeded random weights in their published
formats (no weights are downloaded; their outputs are meaningless but show what the panel does).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from qt_pump import pump

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the preset builders the end-to-end tests use


def load(app, win, name: str) -> bool:
    panel = win.model_panel
    if getattr(panel, "dock", None) is not None:
        panel.dock.raise_()  # the right-hand docks are tabbed: bring Models to the front
    panel.refresh_models()
    job = panel.select(name)
    if job is not None:
        pump(app, until=lambda: job.state == "done")
    return panel.model is not None


def run(app, win, scope: str) -> None:
    job = win.model_panel.run(scope)
    if job is not None:
        pump(app, until=lambda: job.state == "done")


def explain(app, win, method: str) -> None:
    panel = win.model_panel
    panel.controls.method.setCurrentText(method)
    job = panel.saliency.explain()
    if job is not None:
        pump(app, until=lambda: job.state == "done")


def shot(app, win, out: Path, name: str) -> Path:
    pump(app, seconds=0.3)
    path = out / name
    win.grab().save(str(path))
    print("wrote", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--platform", default="offscreen", help="Qt platform: offscreen or xcb (under Xvfb)")
    args = ap.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from e2e_helpers import build_preset_weights
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.core.samples import ensure_samples
    from desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="loupe-shots-"))
    from screenshot_viewer import shoot as shoot_viewer

    print("wrote", shoot_viewer(out / "viewer.png", work))  # the viewer alone: CT in a lung window, inspector
    models = work / "models"
    available = []
    for name in ("heartformer", "chexnet", "roco-captioner"):
        try:
            build_preset_weights(name, models)
            available.append(name)
        except Exception as exc:
            print(f"skipping {name}: {type(exc).__name__}: {exc}")
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("models/folder", str(models))
    win = MainWindow(settings=settings)
    win.resize(1280, 720)  # the README's size
    win.show()
    samples = ensure_samples(work / "samples")
    win.open_folder(samples)
    pump(app, until=lambda: win.current_path() is not None and len(win.image_paths()) > 0)
    chest = [p for p in win.image_paths() if "chest" in Path(p).name.lower()]
    if chest:
        win.show_image(chest[0])
    pump(app, seconds=0.5)

    if "heartformer" in available and load(app, win, "heartformer"):
        win.model_panel.controls.threshold.setValue(2)  # random weights score low: show some boxes
        run(app, win, "all")
        editor = getattr(win, "box_editor", None)
        items = sorted(editor.items.values(), key=lambda i: -(i.box.score or 0)) if editor else []
        if items:
            editor._select([items[0].box_id])
        try:
            explain(app, win, "eigencam")  # the whole image's map; Grad-CAM needs a box
        except Exception as exc:
            print("no detector saliency:", exc)
        shot(app, win, out, "model-panel-detection.png")
    if "chexnet" in available and load(app, win, "chexnet"):
        run(app, win, "this")
        try:
            explain(app, win, "gradcam")
        except Exception as exc:  # saliency engine missing
            print("no saliency:", exc)
        shot(app, win, out, "model-panel-classification-gradcam.png")
    if "roco-captioner" in available and load(app, win, "roco-captioner"):
        win.model_panel.controls.max_length.setValue(12)
        run(app, win, "this")
        shot(app, win, out, "model-panel-caption.png")
    try:  # Get weights… for Heartformer, over the window
        from desktop.ui.dialogs.weights_dialog import open_get_weights

        (models / "heartformer-v0.1.safetensors").unlink(missing_ok=True)  # the dialog says "missing"
        dialog = open_get_weights(win, "heartformer", models)
        pump(app, seconds=0.5)
        dialog.grab().save(str(out / "get-weights-dialog.png"))
        print("wrote", out / "get-weights-dialog.png")
        dialog.close()
    except Exception as exc:  # noqa: BLE001 - the dialog is another panel's; the rest goes on
        print("no Get weights dialog shot:", exc)
    win.jobs.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
