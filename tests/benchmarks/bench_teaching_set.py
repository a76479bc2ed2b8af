"""Teaching-set export figures (run: .venv/bin/python tests/benchmarks/bench_teaching_set.py).

- exporting 40 cases: 20 CT slices (Loupe's phantom with 10 HU of noise, 512 x 512, 16-bit, each
  rendered in its own window plus lung / mediastinum / bone / brain: 5 PNGs) and 20 radiographs
  (a 2500 x 2000 8-bit phantom with noise, scaled to 2048 px): seconds, per image, the set's size
  on disk, index.html's size
- the same with --zip (PNGs are stored, the page and manifest deflated)
- scoring 1,000 answers of 10 boxes each in Node (the page's code), when Node is installed
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from desktop.core.exchange.teaching_set import export_teaching_set  # noqa: E402
from desktop.core.store import open_store  # noqa: E402
from desktop.core.teaching import CaseBook  # noqa: E402


def ct(path: Path, seed: int) -> None:
    from teaching_helpers import phi_dataset

    ds = phi_dataset("CT", "1.2.840.10008.5.1.4.1.1.2", 512, 512)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    from desktop.core.samples import ct_phantom_hu

    rng = np.random.default_rng(seed)  # the phantom with CT-like noise (about 10 HU)
    hu = ct_phantom_hu(512, shift=seed / 100) + rng.normal(0, 10, (512, 512))
    ds.PixelData = np.clip(hu + 1024, 0, 4095).astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def folder_of(root: Path) -> Path:
    from PIL import Image

    from desktop.core.samples import chest_projection

    folder = root / "films"
    folder.mkdir()
    rng = np.random.default_rng(0)
    film = chest_projection(2000)
    film = np.concatenate([film, film[:, :500]], axis=1)  # 2000 x 2500
    with open_store(folder) as store:
        book = CaseBook(store)
        for k in range(20):
            ct(folder / f"ct{k:02d}.dcm", k)
            noisy = np.clip(film * 220 + rng.normal(0, 4, film.shape), 0, 255).astype(np.uint8)
            Image.fromarray(noisy).save(folder / f"cr{k:02d}.png")
            for name, size in ((f"ct{k:02d}.dcm", (512, 512)), (f"cr{k:02d}.png", (2500, 2000))):
                i = store.ensure_image(name, *size)
                store.add_box(i, "Nodule", 100, 100, 40, 40)
                book.create([i], title=name, diagnosis=f"dx {k % 5}", history="History " * 20)
    return folder


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = folder_of(tmp)
        with open_store(folder) as store:
            for zip_file in (False, True):
                out = tmp / f"set-{zip_file}"
                t0 = time.perf_counter()
                result = export_teaching_set(store, out, zip_file=zip_file)
                dt = time.perf_counter() - t0
                pngs = len(list((out / "images").iterdir()))
                extra = f", zip {result.zip_path.stat().st_size / 1e6:.1f} MB" if zip_file else ""
                print(f"export{' --zip' if zip_file else ''}: {result.cases} cases, {result.images} images, "
                      f"{pngs} PNGs in {dt:.2f} s ({dt / result.images * 1000:.0f} ms per image); set "
                      f"{size_of(out) / 1e6:.1f} MB, index.html {(out / 'index.html').stat().st_size / 1e3:.0f} kB"
                      f"{extra}")
    if shutil.which("node"):
        rng = np.random.default_rng(1)
        answers = []
        for _ in range(1000):
            boxes = [{"label": "Nodule", "x": float(x), "y": float(y), "w": 30.0, "h": 30.0, "image": 0}
                     for x, y in rng.uniform(0, 400, (10, 2))]
            marks = [dict(b, x=b["x"] + float(rng.uniform(-8, 8))) for b in boxes]
            answers.append({"expert": boxes, "learner": marks})
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(answers, f)
        script = ("const s = require(process.argv[1]); const a = require(process.argv[2]); const t = process.hrtime.bigint();"
                  "a.forEach(e => s.scoreCase(e.expert, e.learner, '', ''));"
                  "console.log(Number(process.hrtime.bigint() - t) / 1e6);")
        ms = float(subprocess.run(["node", "-e", script, str(ROOT / "resources" / "teaching" / "quiz_score.js"), f.name],
                                  capture_output=True, text=True, check=True).stdout)
        Path(f.name).unlink()
        print(f"page scoring (Node): 1,000 answers of 10 boxes in {ms:.0f} ms ({ms / 1000:.2f} ms per answer)")


if __name__ == "__main__":
    main()
