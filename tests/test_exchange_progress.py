"""Per-item progress of imports and exports (desktop/core/exchange/progress.py), the same for
`loupe import/export` and the dialogs: counts never go back, every counted stage reaches its total,
and a cancel (the callback raising) leaves the store, or the export folder, as it was."""

from __future__ import annotations

import io
import json

import pytest
from exchange_helpers import db_rows, filled_store, store_in, write_png

from desktop.cli import main as loupe
from desktop.core.exchange import export_annotations, import_annotations
from desktop.core.exchange.progress import terminal_progress


class Cancelled(Exception):
    pass


def recorder(cancel_at: tuple[str, int] | None = None):
    calls: list[tuple[int, int, str]] = []

    def progress(done, total, stage):
        calls.append((done, total, stage))
        if cancel_at is not None and stage == cancel_at[0] and done >= cancel_at[1]:
            raise Cancelled()

    return calls, progress


def stages(calls):
    """stage -> its calls' (done, total), in order; the stages in the order they came."""
    out: dict[str, list[tuple[int, int]]] = {}
    for done, total, stage in calls:
        out.setdefault(stage, []).append((done, total))
    return out


def assert_counted_well(calls):
    for stage, seen in stages(calls).items():
        dones = [d for d, _t in seen]
        assert dones == sorted(dones), f"{stage}: counts went back: {dones}"
        assert len({t for _d, t in seen}) == 1, f"{stage}: the total changed"
        assert seen[-1][0] == seen[-1][1], f"{stage}: stopped at {seen[-1]}"


def coco_file(folder, n_images=3, per_image=4000, size=(64, 48)):
    """A COCO file written here by hand (the published layout), boxes on PNGs in `folder`."""
    images, anns = [], []
    for k in range(n_images):
        write_png(folder / f"im{k}.png", *size, seed=k)
        images.append({"id": k + 1, "file_name": f"im{k}.png", "width": size[0], "height": size[1]})
        for j in range(per_image):
            anns.append({"id": len(anns) + 1, "image_id": k + 1, "category_id": 1 + j % 2,
                         "bbox": [j % 40, j % 30, 5.5, 4.25], "area": 23.375, "iscrowd": 0})
    path = folder.parent / "boxes.coco.json"
    path.write_text(json.dumps({"images": images, "annotations": anns,
                                "categories": [{"id": 1, "name": "heart"}, {"id": 2, "name": "lung"}]}))
    return path, anns


def test_import_counts_images_and_boxes_checked_then_written(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    path, anns = coco_file(folder)
    store = store_in(folder)
    calls, progress = recorder()
    report = import_annotations(store, path, "coco", progress=progress)
    assert report.boxes_imported == len(anns) == 12_000
    order = list(stages(calls))
    assert order == ["reading boxes.coco.json", "images checked", "boxes checked", "boxes written"]
    assert_counted_well(calls)
    seen = stages(calls)
    assert seen["images checked"][-1] == (3, 3)
    assert seen["boxes checked"][-1] == (12_000, 12_000) and len(seen["boxes checked"]) > 10
    assert seen["boxes written"][0] == (0, 12_000) and len(seen["boxes written"]) >= 3
    rows = store.conn.execute("SELECT COUNT(*) FROM boxes").fetchone()[0]
    assert rows == 12_000


@pytest.mark.parametrize("where", [("boxes checked", 500), ("boxes written", 5_000)])
def test_a_cancelled_import_leaves_the_store_as_it_was(tmp_path, where):
    folder = tmp_path / "images"
    folder.mkdir()
    path, _anns = coco_file(folder)
    store = store_in(folder)
    store.ensure_image("im0.png", 64, 48)
    store.add_box(store.image_id("im0.png"), "old", 1, 2, 3, 4)
    before = db_rows(store.path)
    calls, progress = recorder(cancel_at=where)
    with pytest.raises(Cancelled):
        import_annotations(store, path, "coco", progress=progress)
    assert calls[-1][2] == where[0] and 0 < calls[-1][0] < calls[-1][1]  # it stopped part way
    assert db_rows(store.path) == before  # nothing of the import was kept, by another connection's read
    assert [b.category for b in store.boxes(store.image_id("im0.png"))] == ["old"]
    import_annotations(store, path, "coco")  # and the store still takes the import afterwards
    assert store.conn.execute("SELECT COUNT(*) FROM boxes").fetchone()[0] == 12_001


def test_predictions_import_counts_and_cancels_in_one_transaction(tmp_path):
    store = filled_store(tmp_path / "images", n_images=6)
    results = [{"image_id": i.id, "category_id": store.categories()[0].id, "bbox": [1, 1, 5, 5], "score": 0.5}
               for i in store.images() for _ in range(3)]
    path = tmp_path / "det2.results.json"
    path.write_text(json.dumps(results))
    before = db_rows(store.path)
    calls, progress = recorder(cancel_at=("images written", 2))
    with pytest.raises(Cancelled):
        import_annotations(store, path, "coco-results", progress=progress)
    assert db_rows(store.path) == before
    calls, progress = recorder()
    report = import_annotations(store, path, "coco-results", progress=progress)
    assert report.boxes_imported == 18
    assert_counted_well(calls)
    assert stages(calls)["images written"][-1] == (6, 6)
    assert stages(calls)["boxes checked"][-1] == (18, 18)


@pytest.mark.parametrize("fmt,counted", [("coco", "boxes written"), ("coco-results", "boxes written"),
                                         ("roboflow", "images written"), ("yolo", "images written"),
                                         ("voc", "images written")])
def test_every_export_counts_up_to_what_it_wrote(tmp_path, fmt, counted):
    store = filled_store(tmp_path / "images", n_images=6)
    calls, progress = recorder()
    out = export_annotations(store, tmp_path / "out", fmt, progress=progress,
                             **({"only_reviewed": False} if fmt == "roboflow" else {}))
    assert_counted_well(calls)
    done, total = stages(calls)[counted][-1]
    if fmt == "coco":
        data = json.loads(out.read_text())
        assert total == len(data["annotations"]) > 0
    elif fmt == "coco-results":
        assert total == len(json.loads(out.read_text())) > 0
    elif fmt == "roboflow":
        assert total == 6 == sum(1 for p in out.rglob("*.png"))
    else:
        assert total == 6 == sum(1 for p in out.glob("*.txt" if fmt == "yolo" else "*.xml")) - (fmt == "yolo")


def test_a_cancelled_folder_export_takes_away_only_what_it_made(tmp_path):
    store = filled_store(tmp_path / "images", n_images=6)
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    calls, progress = recorder(cancel_at=("images written", 3))
    with pytest.raises(Cancelled):
        export_annotations(store, out, "roboflow", only_reviewed=False, progress=progress)
    assert sorted(p.name for p in out.rglob("*")) == ["notes.txt"]
    with pytest.raises(Cancelled):  # a folder the export made itself goes too
        export_annotations(store, tmp_path / "yolo", "yolo", progress=recorder(("images written", 1))[1])
    assert not (tmp_path / "yolo").exists()


def test_a_cancelled_file_export_writes_no_file(tmp_path):
    store = filled_store(tmp_path / "images", n_images=6)
    with pytest.raises(Cancelled):
        export_annotations(store, tmp_path / "a.coco.json", "coco", progress=recorder(("boxes written", 0))[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images"]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_progress_rewrites_one_line_per_stage():
    term = Terminal()
    show = terminal_progress(term)
    show(0, 0, "reading a.json")
    show(0, 1200, "boxes checked")
    show(600, 1200, "boxes checked")
    show(1200, 1200, "boxes checked")
    lines = term.getvalue().split("\n")
    assert lines[0] == "\rreading a.json…"
    assert lines[1].split("\r")[1:] == ["boxes checked: 0 / 1,200", "boxes checked: 600 / 1,200",
                                        "boxes checked: 1,200 / 1,200"]
    assert terminal_progress(io.StringIO()) is None  # a log or a pipe gets no progress line


def test_loupe_import_and_export_show_progress_on_a_terminal(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    path, _anns = coco_file(folder, n_images=2, per_image=600)
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    assert loupe(["import", str(folder), str(path)]) == 0
    assert "boxes written: 1,200 / 1,200\n" in term.getvalue()
    assert "imported 1200 box(es) on 2 image(s)" in capsys.readouterr().out
    assert loupe(["export", str(folder), "--format", "yolo", "--out", str(tmp_path / "y")]) == 0
    assert "images written: 2 / 2\n" in term.getvalue()
