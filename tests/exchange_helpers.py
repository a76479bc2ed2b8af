"""Helpers for the import/export tests: small real image files and a filled store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from desktop.core.store import open_store


def write_png(path: Path, width: int, height: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (height, width), dtype=np.uint8)).save(path)
    return path


def store_in(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    return open_store(folder)


def filled_store(folder: Path, n_images: int = 6):
    """A store over `n_images` small PNGs with person boxes, accepted/modified/deleted/unreviewed
    predictions, and every other image marked reviewed."""
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(folder)
    store.set_label_set(["heart", "lung"])
    for k in range(n_images):
        name = f"img_{k:02d}.png"
        write_png(folder / name, 64 + k, 48, seed=k)
        i = store.ensure_image(name, 64 + k, 48)
        store.add_box(i, "heart", 1.5 + k, 2.25, 10.0, 12.5)
        p = store.replace_predictions(i, "det", [("lung", 5, 5, 20, 20, 0.9), ("heart", 30, 10, 8, 8, 0.4),
                                                 ("lung", 40, 30, 6, 6, 0.2), ("lung", 2, 30, 5, 5, 0.6)])
        store.accept_predictions(i, [p[0]])
        store.update_box(p[1], category="lung")
        store.delete_box(p[2])
        if k % 2 == 0:
            store.set_review_status(i, "done")
    return store


def db_rows(db) -> dict[str, list[tuple]]:
    """Every row of every table of a store's database file, as a second connection reads it."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    finally:
        conn.close()
