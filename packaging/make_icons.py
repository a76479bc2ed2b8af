"""Render Loupe's own icon drawing (resources/icons/loupe.svg) to the files installers need.

    python packaging/make_icons.py [OUT_DIR]      (default packaging/build/icons)

Writes loupe-<size>.png (16..1024), Loupe.ico (Windows: 16..256) and Loupe.icns (macOS: 16..1024),
using Qt's SVG renderer and Pillow's ICO/ICNS writers, so it runs the same on every OS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "loupe.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512, 1024)


def render_png(svg: Path, size: int, out: Path) -> Path:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["make_icons", "-platform", "offscreen"])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG drawing")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out)):
        raise SystemExit(f"make_icons: could not write {out}")
    return out


def make_icons(out_dir: Path, svg: Path = SVG) -> dict[str, Path]:
    from PIL import Image

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = {size: render_png(svg, size, out_dir / f"loupe-{size}.png") for size in SIZES}
    biggest = Image.open(pngs[1024]).convert("RGBA")
    ico = out_dir / "Loupe.ico"
    biggest.save(ico, format="ICO", sizes=[(s, s) for s in SIZES if s <= 256])
    icns = out_dir / "Loupe.icns"
    biggest.save(icns, format="ICNS")
    return {"ico": ico, "icns": icns, **{f"png{s}": p for s, p in pngs.items()}}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "packaging" / "build" / "icons"
    for kind, path in make_icons(target).items():
        print(f"{kind:8} {path}")
