"""`loupe refine`: the window's Refine all in the folder without a window. The refined boxes are
read back from the database file by a second connection, equal to the box of the engine's mask for
each box prompt, and carry the model's name; a folder of another model is refused with its reason."""

from __future__ import annotations

import sqlite3

import numpy as np
from PIL import Image

from desktop.cli import run_subcommand
from desktop.core.imaging.model_input import model_input
from desktop.core.store import open_store
from models import load_model
from models.segmentation import box_from_mask
from models.segmentation.tiny import write_tiny_folder


def test_refine_snaps_unreviewed_predictions_and_records_the_model(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for k in range(2):
        Image.fromarray(rng.integers(0, 255, (150, 180), dtype=np.uint8)).save(folder / f"a{k}.png")
    weights = write_tiny_folder(tmp_path / "sam", "sam", "sam", image_size=64, seed=3, hidden=16)
    planted = {"a0.png": (20.0, 30.0, 60.0, 50.0), "a1.png": (70.0, 40.0, 90.0, 80.0)}
    with open_store(folder) as store:
        for name, rect in planted.items():
            iid = store.ensure_image(name, 180, 150)
            store.replace_predictions(iid, "rfdetr-nano", [("nodule", *rect, 0.9)])
        reviewed = store.replace_predictions(store.image_id("a0.png"), "other", [("mass", 5.0, 5.0, 20.0, 20.0, 0.8)])
        store.update_box(reviewed[0], state="accepted")  # reviewed: left alone
    assert run_subcommand("refine", [str(folder), "--model", "sam-vit-base", "--weights", str(weights),
                                     "--device", "cpu"]) == 0
    assert "refined 2 box(es) on 2 image(s) with sam-vit-base" in capsys.readouterr().out
    model = load_model("sam-vit-base", weights=weights, device="cpu")
    conn = sqlite3.connect(folder / ".loupe" / "annotations.db")
    rows = conn.execute("SELECT i.rel_path, b.model, b.x, b.y, b.w, b.h, b.refined_by, b.state FROM boxes b "
                        "JOIN images i ON i.id = b.image_id ORDER BY b.id").fetchall()
    conn.close()
    for rel, mdl, x, y, w, h, refined_by, state in rows:
        if mdl == "other":
            assert (x, y, w, h, refined_by) == (5.0, 5.0, 20.0, 20.0, None)
            continue
        px, py, pw, ph = planted[rel]
        mask, _ = model.segment(model.embed(model_input(folder / rel)), box=(px, py, px + pw, py + ph))
        x0, y0, x1, y1 = box_from_mask(mask)
        assert (x, y, w, h) == (x0, y0, x1 - x0, y1 - y0) and refined_by == "sam-vit-base" and state == "modified"


def test_refine_with_another_models_folder_says_why(tmp_path, capsys):
    (tmp_path / "imgs").mkdir()
    weights = write_tiny_folder(tmp_path / "sam2", "sam2", "sam", image_size=64)
    assert run_subcommand("refine", [str(tmp_path / "imgs"), "--model", "medsam", "--weights", str(weights)]) == 2
    err = capsys.readouterr().err
    assert "config.json is for a sam2 model" in err and "not for medsam" in err
