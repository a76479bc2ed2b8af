"""Import preview (dry run), format detection and COCO results import: the counts a preview gives
are what the real import then does, and a preview writes nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest

from desktop.cli import main
from desktop.core.exchange import (
    ExchangeError,
    detect_format,
    export_annotations,
    import_annotations,
    preview_import,
)
from desktop.core.exchange.errors import ImportProblems
from tests.exchange_helpers import filled_store, store_in, write_png


def _rows(db) -> list:
    con = sqlite3.connect(db)  # a second connection: what is on disk
    try:
        return con.execute("SELECT image_id, category_id, x, y, w, h, source, score, deleted FROM boxes "
                           "ORDER BY id").fetchall() + con.execute("SELECT name FROM categories").fetchall()
    finally:
        con.close()


@pytest.mark.shared_data
def test_nih_preview_counts_equal_the_import_and_write_nothing(shared_data, tmp_path):
    import shutil

    folder = tmp_path / "nih"
    folder.mkdir()
    for p in (shared_data / "nih" / "images").glob("*.png"):
        shutil.copy(p, folder / p.name)
    csv = shared_data / "nih" / "BBox_List_2017.csv"
    store = store_in(folder)
    store.ensure_category("Atelectasis")
    before = _rows(store.path)
    assert detect_format(csv) == "nih-csv"
    preview = preview_import(store, csv)
    assert _rows(store.path) == before and store.box_count() == 0
    # the CSV's rows for the 4 images in the folder, counted independently
    names = {p.name for p in folder.glob("*.png")}
    lines = csv.read_text().splitlines()[1:]
    mine = [ln.split(",") for ln in lines if ln.split(",")[0] in names]
    assert preview.report.boxes_imported == len(mine) == 4
    assert preview.report.images_touched == len({r[0] for r in mine})
    assert preview.report.skipped == len([ln for ln in lines if ln.strip()]) - len(mine)
    labels = sorted({r[1] for r in mine})
    assert preview.categories_merged == [n for n in labels if n == "Atelectasis"]
    assert preview.categories_new == [n for n in labels if n != "Atelectasis"]
    assert preview.text().startswith(f"4 box(es) on 4 image(s); {preview.report.skipped} row(s) skip (unknown image")
    report = import_annotations(store, csv, "nih-csv")
    assert (report.boxes_imported, report.images_touched, report.skipped) == (
        preview.report.boxes_imported, preview.report.images_touched, preview.report.skipped)


def test_preview_lists_problems_and_the_strict_import_then_refuses(tmp_path):
    folder = tmp_path / "f"
    write_png(folder / "a.png", 40, 30)
    store = store_in(folder)
    coco = {"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30},
                       {"id": 2, "file_name": "gone.png", "width": 40, "height": 30}],
            "categories": [{"id": 1, "name": "heart"}],
            "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]},
                            {"id": 8, "image_id": 1, "category_id": 1, "bbox": [35, 1, 10, 10]}]}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(coco))
    preview = preview_import(store, path)
    assert preview.report.boxes_imported == 1 and preview.categories_new == ["heart"]
    assert [str(p) for p in preview.problems] == [
        f"{path}, image gone.png: unknown image: not in this folder",
        f"{path}, annotation id 8 (#1): box outside the image: [35.0, 1.0, 10.0, 10.0] on 40x30 (image a.png)"]
    assert store.box_count() == 0 and store.categories() == []
    with pytest.raises(ImportProblems):
        import_annotations(store, path, "coco")
    assert store.box_count() == 0


@pytest.mark.parametrize("name,text,fmt", [
    ("a.json", ' {"images": []}', "coco"), ("r.json", "\ufeff[ {}]", "coco-results"),
    ("b.csv", "Image Index,Finding Label,Bbox [x,y,w,h],,,\n", "nih-csv"), ("x.xml", "<annotation/>", "voc"),
    ("l.txt", "0 0.5 0.5 0.1 0.1\n", "yolo")])
def test_format_is_told_from_the_file(tmp_path, name, text, fmt):
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert detect_format(tmp_path / name) == fmt


def test_format_of_folders_and_unknown_files(tmp_path):
    (tmp_path / "voc").mkdir()
    (tmp_path / "voc" / "a.xml").write_text("<annotation/>")
    (tmp_path / "yolo").mkdir()
    (tmp_path / "yolo" / "a.txt").write_text("")
    (tmp_path / "yolo" / "classes.txt").write_text("heart\n")
    assert detect_format(tmp_path / "voc") == "voc" and detect_format(tmp_path / "yolo") == "yolo"
    (tmp_path / "odd.csv").write_text("a,b,c\n")
    with pytest.raises(ExchangeError, match=r"odd.csv: a CSV this app does not know \(header 'a,b,c'\)"):
        detect_format(tmp_path / "odd.csv")
    (tmp_path / "p.png").write_bytes(b"x")
    with pytest.raises(ExchangeError, match="cannot tell its format"):
        detect_format(tmp_path / "p.png")


def test_coco_results_round_trip_as_unreviewed_predictions(tmp_path):
    store = filled_store(tmp_path / "f", n_images=3)
    out = export_annotations(store, tmp_path / "res.json", "coco-results")
    exported = json.loads(out.read_text())
    # onto the same folder: the store's own ids; the file's boxes come back as predictions of "res"
    report = import_annotations(store, out, "coco-results")
    assert report.boxes_imported == len(exported) and report.images_touched == 3
    rows = store.conn.execute("SELECT image_id, category_id, x, y, w, h, score FROM boxes WHERE model = 'res' "
                              "AND state = 'unreviewed' ORDER BY id").fetchall()
    assert [(i, c, [x, y, w, h], s) for i, c, x, y, w, h, s in rows] == [
        (r["image_id"], r["category_id"], r["bbox"], r["score"]) for r in exported]
    again = import_annotations(store, out, "coco-results")  # replaces its own unreviewed predictions
    assert again.boxes_imported == len(exported)
    assert store.conn.execute("SELECT COUNT(*) FROM boxes WHERE model = 'res'").fetchone()[0] == len(exported)


def test_coco_results_problems_name_the_result(tmp_path):
    store = filled_store(tmp_path / "f", n_images=1)
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"image_id": 99, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5},
                                {"image_id": 1, "category_id": 1, "bbox": [1, 1, 2], "score": 0.5}]))
    with pytest.raises(ImportProblems) as err:
        import_annotations(store, path, "coco-results")
    assert [str(p) for p in err.value.report.problems] == [
        f"{path}, result #0: unknown image id 99: ids are this folder's own, as its COCO export writes them",
        f"{path}, result #1: bbox must be [x, y, w, h] numbers, not [1, 1, 2]"]


@pytest.mark.shared_data
def test_cli_dry_run_then_import_with_the_format_told_from_the_file(shared_data, tmp_path, capsys):
    import shutil

    folder = tmp_path / "nih"
    folder.mkdir()
    for p in (shared_data / "nih" / "images").glob("0000*_0*.png"):
        shutil.copy(p, folder / p.name)
    csv = str(shared_data / "nih" / "BBox_List_2017.csv")
    assert main(["import", str(folder), csv, "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{csv} (NIH ChestX-ray14 BBox_List_2017.csv): would import 4 box(es) on 4 image(s); "
                             "980 row(s) skip")
    assert out[-1] == "nothing was written (dry run)"
    from desktop.core.store import open_store

    with open_store(folder) as store:
        assert store.box_count() == 0
    assert main(["import", str(folder), csv]) == 0
    assert "imported 4 box(es) on 4 image(s) from nih-csv" in capsys.readouterr().out
