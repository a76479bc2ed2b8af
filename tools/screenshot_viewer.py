"""Screenshot of the real viewer window for the README: the sample folder, the CT phantom in a lung
window, thumbnails, the window/level panel and the inspector.

    .venv/bin/python tools/screenshot_viewer.py [--out docs/screenshots/viewer.png]

Starts its own Xvfb server (a real X server, so fonts and styles are those of a desktop) when
`Xvfb` is installed; otherwise Qt's offscreen platform. Settings and the sample folder live in a
temporary directory, so the user's own settings are left alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qt_pump import pump

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1280, 720)  # the README's size (issue 13): a laptop's window
MAX_BYTES = 300_000


def start_xvfb() -> subprocess.Popen | None:
    """An Xvfb server on a free display; None when Xvfb is not installed or does not start."""
    if shutil.which("Xvfb") is None:
        return None
    for display in range(91, 120):
        if Path(f"/tmp/.X{display}-lock").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", f"{SIZE[0] + 100}x{SIZE[1] + 100}x24",
                                 "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{display}").exists():
                if _xcb_works(f":{display}"):
                    os.environ["DISPLAY"] = f":{display}"
                    os.environ["QT_QPA_PLATFORM"] = "xcb"
                    return proc
                break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.terminate()
    return None


def _xcb_works(display: str) -> bool:
    """Qt's xcb plugin needs libxcb-cursor0 and friends; probe it in a child process."""
    probe = "from PySide6.QtWidgets import QApplication; QApplication([])"
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, timeout=60)
    if result.returncode != 0:
        print("Qt cannot use Xvfb (missing xcb libraries?); falling back to offscreen", file=sys.stderr)
    return result.returncode == 0


def shoot(out: Path, tmp: Path) -> Path:
    os.environ["LOUPE_SETTINGS"] = str(tmp / "settings.ini")
    sys.path.insert(0, str(ROOT))
    from desktop.core.samples import SAMPLE_NAMES, ensure_samples
    from desktop.ui.app import make_app
    from desktop.ui.main_window import MainWindow

    app = make_app()
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    folder = ensure_samples()  # where File > Open Sample Folder puts it
    window.open_folder(folder)
    pump(app, lambda: len(window.image_paths()) == len(SAMPLE_NAMES))
    ct = str((folder / "07_ct_phantom_rescaled.dcm").resolve())
    window.show_image(ct)
    presets = window.wl_panel.presets
    lung = next(i for i in range(presets.count()) if presets.itemText(i).startswith("Lung"))
    presets.setCurrentIndex(lung)
    presets.activated.emit(lung)
    from PySide6.QtWidgets import QDockWidget

    window.findChild(QDockWidget, "dock_Inspector").raise_()  # the Inspector tab in front: DICOM tags, PHI hidden
    model = window.image_list.model
    pump(app, lambda: model._requested and len(model._thumbs) + len(model.errors) >= len(model._requested),
         timeout=120.0)
    pump(app, seconds=1.0)  # the last thumbnails' repaint
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out), "PNG")
    window.close()
    if out.stat().st_size > MAX_BYTES:  # a palette PNG keeps the UI legible at a fraction of the size
        from PIL import Image

        Image.open(out).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "viewer.png")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    xvfb = start_xvfb() if not os.environ.get("DISPLAY") else None
    if xvfb is None and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = shoot(args.out, Path(tmp))
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    print(f"{out} ({out.stat().st_size // 1024} KiB, platform {os.environ.get('QT_QPA_PLATFORM', 'default')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
