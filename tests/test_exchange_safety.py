"""Imports never attach data to the wrong image, label or file; exports say why they cannot write;
exported files name no patient unless asked (issue 14, parts 4 to 6)."""

from __future__ import annotations

import errno
import json
import os
import sqlite3

import pytest
from exchange_helpers import filled_store, store_in, write_png

from desktop.core.exchange import ExchangeError, ImportProblems, export_annotations, import_annotations
from desktop.core.exchange.naming import MAPPING_FILE


def _folder(tmp_path):
    folder = tmp_path / "f"
    write_png(folder / "a.png", 50, 40)
    write_png(folder / "b.png", 30, 30, seed=1)
    return folder


def _coco(images=None, cats=None, anns=None):
    return {"images": images if images is not None else [{"id": 1, "file_name": "a.png", "width": 50, "height": 40},
                                                         {"id": 2, "file_name": "b.png", "width": 30, "height": 30}],
            "categories": cats if cats is not None else [{"id": 1, "name": "heart"}],
            "annotations": anns if anns is not None else [{"id": 1, "image_id": 2, "category_id": 1,
                                                           "bbox": [1, 1, 5, 5]}]}


def _import_refused(tmp_path, data, *needles, fmt="coco"):
    folder = tmp_path / "f" if (tmp_path / "f").exists() else _folder(tmp_path)
    store = store_in(folder)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    with pytest.raises(ImportProblems) as err:
        import_annotations(store, path, fmt)
    text = str(err.value)
    for needle in needles:
        assert needle in text, text
    assert str(path) in text
    assert store.box_count(include_deleted=True) == 0 and store.image_count() == 0
    store.close()
    return text


# -- 4. never the wrong image, label or file ------------------------------------------------------
def test_duplicate_image_ids_are_an_error_naming_the_id(tmp_path):
    images = [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}, {"id": 2, "file_name": "a.png"}]
    _import_refused(tmp_path, _coco(images=images), "image #2: duplicate image id 2 (also image #1, 'b.png')")


def test_duplicate_category_ids_are_an_error_naming_the_id(tmp_path):
    cats = [{"id": 1, "name": "heart"}, {"id": 1, "name": "lung"}]
    _import_refused(tmp_path, _coco(cats=cats), "category #1: duplicate category id 1 (also category #0, 'heart')")


@pytest.mark.parametrize("name, needle", [
    ("../other/a.png", "climbs out of the image folder"),
    ("sub/../../a.png", "climbs out of the image folder"),
    ("/etc/a.png", "is an absolute path"),
    ("C:\\data\\a.png", "is an absolute path"),
    ("\\\\server\\share\\a.png", "is an absolute path"),
])
def test_paths_outside_the_folder_are_refused_by_name(tmp_path, name, needle):
    outside = tmp_path / "other"
    write_png(outside / "a.png", 50, 40)  # another patient's film, next to the folder
    images = [{"id": 1, "file_name": name, "width": 50, "height": 40}]
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}]
    _import_refused(tmp_path, _coco(images=images, anns=anns), f"image {name!r}: refused", needle)


def test_a_link_to_a_file_outside_the_folder_is_refused_and_never_exported(tmp_path):
    folder = _folder(tmp_path)
    write_png(tmp_path / "other_patient.png", 50, 40, seed=7)
    os.symlink(tmp_path / "other_patient.png", folder / "linked.png")
    images = [{"id": 1, "file_name": "linked.png", "width": 50, "height": 40}]
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}]
    text = _import_refused(tmp_path, _coco(images=images, anns=anns), "'linked.png' is a link to",
                           "outside the image folder")
    assert str(tmp_path / "other_patient.png") in text
    # a store that already holds such a path (an older Loupe) never copies that file
    store = store_in(folder)
    store.conn.execute("INSERT INTO images(rel_path, width, height, review_status) VALUES "
                       "('../other_patient.png', 50, 40, 'done')")
    with pytest.raises(ExchangeError, match=r"'\.\./other_patient\.png' climbs out of the image folder"):
        export_annotations(store, tmp_path / "rf", "roboflow", only_reviewed=True)
    assert not list((tmp_path / "rf").rglob("*.png"))
    store.close()


@pytest.mark.parametrize("label", ["heart\x00lung", "bad\x1b[31mred", "tab\there"])
def test_control_characters_in_a_label_are_refused(tmp_path, label):
    cats = [{"id": 1, "name": label}]
    _import_refused(tmp_path, _coco(cats=cats), "annotation id 1 (#0): refused: the label",
                    "contains control characters (U+00")


def test_control_characters_in_voc_and_yolo_labels(tmp_path):
    folder = _folder(tmp_path)
    store = store_in(folder)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "classes.txt").write_text("ok\nnul\x00name\n")
    (labels / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n")
    with pytest.raises(ImportProblems, match=r"a\.txt, line 2: refused: the label 'nul\\x00name'"):
        import_annotations(store, labels, "yolo")
    report = import_annotations(store, labels, "yolo", strict=False)  # the good label alone
    assert report.boxes_imported == 1 and [c.name for c in store.categories()] == ["ok"]
    store.close()


# -- 5. a message, never a traceback ----------------------------------------------------------------
@pytest.mark.parametrize("data, needle", [
    (_coco(images=[{"id": [1], "file_name": "a.png"}]), "image #0: id must be a number or a string, not [1]"),
    (_coco(cats=[{"id": {"x": 1}, "name": "heart"}]), "category #0: id must be a number or a string"),
    (_coco(anns=[{"id": 1, "image_id": [2], "category_id": 1, "bbox": [1, 1, 5, 5]}]), "unknown image id [2]"),
    (_coco(anns=[{"id": 1, "image_id": 2, "category_id": [1], "bbox": [1, 1, 5, 5]}]), "unknown category id [1]"),
    (_coco(anns=[{"id": 1, "image_id": 2, "category_id": 1, "bbox": [1, 1, float("inf"), 5]}]),
     "is not four finite numbers"),
])
def test_list_valued_ids_and_infinities_get_a_message(tmp_path, data, needle):
    _import_refused(tmp_path, data, needle)


def test_infinite_width_is_read_from_the_file_instead(tmp_path):
    folder = _folder(tmp_path)
    store = store_in(folder)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(_coco(images=[{"id": 2, "file_name": "b.png", "width": float("inf"), "height": 30}])))
    assert "Infinity" in path.read_text()
    report = import_annotations(store, path, "coco")
    assert report.boxes_imported == 1
    assert (store.image(store.image_id("b.png")).width, store.image(store.image_id("b.png")).height) == (30, 30)
    assert any("width/height inf x 30 are not a size" in n for n in report.notes)
    store.close()


def test_deeply_nested_json_gets_a_message(tmp_path):
    _import_refused(tmp_path, "[" * 200_000 + "]" * 200_000, "file: not a COCO file: its JSON is nested too deeply")


def test_latin1_classes_file_gets_a_message(tmp_path):
    folder = _folder(tmp_path)
    store = store_in(folder)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "classes.txt").write_bytes("cœur\népanchement\n".encode("latin-1", "replace"))
    (labels / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(ImportProblems, match=r"classes\.txt, byte \d+: cannot read the class names: the file is "
                                             r"not UTF-8 text"):
        import_annotations(store, labels, "yolo")
    assert store.box_count(include_deleted=True) == 0
    store.close()


def test_non_utf8_file_names_are_refused_not_merged(tmp_path):
    folder = _folder(tmp_path)
    odd = os.fsdecode(b"\xff\xfea.png")
    write_png(folder / odd, 50, 40, seed=3)
    store = store_in(folder)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "classes.txt").write_text("heart\n")
    (labels / os.fsdecode(b"\xff\xfea.txt")).write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(ImportProblems) as err:
        import_annotations(store, labels, "yolo")
    assert "is not valid UTF-8; rename the file" in str(err.value)
    str(err.value).encode("utf-8")  # printable: no lone surrogates reach the terminal
    data = _coco(images=[{"id": 1, "file_name": odd, "width": 50, "height": 40}],
                 anns=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}])
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data))  # JSON spells the lone surrogate as \udcff
    with pytest.raises(ImportProblems, match="not valid UTF-8"):
        import_annotations(store, path, "coco")
    assert store.image_count() == 0
    store.close()


def test_an_import_that_fills_the_disk_says_so(tmp_path):
    folder = _folder(tmp_path)
    store = store_in(folder)
    anns = [{"id": k, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]} for k in range(1, 3001)]
    path = tmp_path / "in.json"
    path.write_text(json.dumps(_coco(anns=anns)))
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk fills during the import
    with pytest.raises(ExchangeError) as err:
        import_annotations(store, path, "coco")
    assert "nothing was imported" in str(err.value) and "the disk is full" in str(err.value)
    assert "cannot rollback" not in str(err.value)
    assert not store.conn.in_transaction and store.box_count(include_deleted=True) == 0
    store.close()


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo", "corrections", "roboflow"])
@pytest.mark.parametrize("err, reason", [(errno.EACCES, "read-only or not writable by you"),
                                         (errno.ENOSPC, "the disk is full")])
def test_export_into_a_read_only_or_full_folder_gets_a_message(tmp_path, monkeypatch, fmt, err, reason):
    store = filled_store(tmp_path / "images", n_images=2)
    out = tmp_path / "out"
    out.mkdir()
    real_open = open

    def refusing_open(file, mode="r", *args, **kwargs):
        if "w" in mode and str(file).startswith(str(out)):
            raise OSError(err, os.strerror(err), str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    monkeypatch.setattr("io.open", refusing_open)  # pathlib's write_text
    monkeypatch.setattr("shutil.copyfile", lambda src, dst, **k: refusing_open(dst, "wb"))
    from PIL import Image

    monkeypatch.setattr(Image.Image, "save", lambda self, fp, *a, **k: refusing_open(fp, "wb"))
    with pytest.raises(ExchangeError) as info:
        export_annotations(store, out, fmt, only_reviewed=False)
    assert reason in str(info.value) and str(out) in str(info.value)
    assert not list(out.rglob("*.tmp"))  # no temporary file stays behind
    store.close()


def test_writer_end_does_not_hide_the_reason(tmp_path):
    store = store_in(tmp_path / "s")
    store.writer.begin()
    store.conn.execute("ROLLBACK")  # SQLite rolled back on its own (disk full, I/O error)
    store.writer.end(False)  # no "cannot rollback - no transaction is active"
    assert not store.conn.in_transaction
    store.close()
    assert sqlite3.connect(str(store.path)).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- 6. privacy of exports ---------------------------------------------------------------------------
def _pacs_store(tmp_path):
    folder = tmp_path / "pacs"
    store = store_in(folder)
    for k, rel in enumerate(["Doe_Janet_PID938271/IM0001.png", "Doe_Janet_PID938271/IM0002.png",
                             "Roe_Rick_PID112233/IM0001.png"]):
        write_png(folder / rel, 40, 30, seed=k)
        i = store.ensure_image(rel, 40, 30)
        store.add_box(i, "nodule", 2 + k, 3, 10, 8)
        p = store.replace_predictions(i, "det", [("nodule", 1, 1, 5, 5, 0.8)])
        store.update_box(p[0], x=2)
        store.set_review_status(i, "done")
    return store


@pytest.mark.parametrize("fmt", ["coco", "voc", "corrections"])
def test_exports_name_no_patient_by_default_and_map_back(tmp_path, fmt):
    store = _pacs_store(tmp_path)
    out = export_annotations(store, tmp_path / f"out_{fmt}", fmt)
    files = [out] if out.is_file() else sorted(out.rglob("*"))
    text = "".join(f.read_text() for f in files if f.is_file()) + "".join(f.name for f in files)
    for secret in ("Doe", "Janet", "938271", "Roe", "112233", "IM000"):
        assert secret not in text, f"{secret} leaked into the {fmt} export"
    mapping = (store.folder / ".loupe" / MAPPING_FILE).read_text()
    assert "img000002.png,2,Doe_Janet_PID938271/IM0002.png" in mapping
    if fmt == "coco":
        data = json.loads(out.read_text())
        assert [i["file_name"] for i in data["images"]] == ["img000001.png", "img000002.png", "img000003.png"]
        # the same file imported back lands on the same images, through the mapping
        before = sorted((i.rel_path, b.x, b.y) for i in store.images() for b in store.boxes(i.id)
                        if b.state != "unreviewed")
        store.conn.execute("DELETE FROM boxes")
        report = import_annotations(store, out, "coco")
        assert report.boxes_imported == len(before) and not report.problems
        assert sorted((i.rel_path, b.x, b.y) for i in store.images() for b in store.boxes(i.id)) == before
    store.close()


def test_keep_paths_writes_the_relative_paths(tmp_path):
    store = _pacs_store(tmp_path)
    data = json.loads(export_annotations(store, tmp_path / "o.json", "coco", keep_paths=True).read_text())
    assert data["images"][1]["file_name"] == "Doe_Janet_PID938271/IM0002.png"
    store.close()
    other = filled_store(tmp_path / "plain", n_images=2)
    voc = export_annotations(other, tmp_path / "voc", "voc", keep_paths=True)
    assert sorted(f.name for f in voc.glob("*.xml")) == ["img_00.xml", "img_01.xml"]
    assert "<filename>img_01.png</filename>" in (voc / "img_01.xml").read_text()
    other.close()


def test_cli_export_names_no_patient_and_keep_paths_flag(tmp_path, capsys):
    from desktop.cli import main

    _pacs_store(tmp_path).close()
    assert main(["export", str(tmp_path / "pacs"), "--format", "coco", "--out", str(tmp_path / "a.json")]) == 0
    printed = capsys.readouterr().out
    assert "images are named img<id>" in printed and MAPPING_FILE in printed
    assert "Doe_Janet" not in (tmp_path / "a.json").read_text()
    assert main(["export", str(tmp_path / "pacs"), "--format", "coco", "--out", str(tmp_path / "b.json"),
                 "--keep-paths"]) == 0
    assert "Doe_Janet_PID938271/IM0001.png" in (tmp_path / "b.json").read_text()


def test_roboflow_export_warns_of_burned_in_text(tmp_path, capsys):
    from imaging_helpers import small_dicom

    from desktop.cli import main

    folder = tmp_path / "films"
    store = store_in(folder)
    for name, modality in (("us.dcm", "US"), ("ct.dcm", "CT")):
        small_dicom(folder / name, modality)
        i = store.ensure_image(name, 8, 8)
        store.add_box(i, "finding", 1, 1, 4, 4)
        store.set_review_status(i, "done")
    store.close()
    out = tmp_path / "rf"
    assert main(["export", str(folder), "--format", "roboflow", "--out", str(out), "--split", "1,0,0"]) == 0
    printed = capsys.readouterr().out
    assert "warning: train/img000001.png may show the patient's name or ID in its pixels: modality US" in printed
    assert "img000002" not in printed  # the CT: no warning
    info = json.loads((out / "train" / "_annotations.coco.json").read_text())["info"]
    assert info["burned_in_text"] == ["img000001.png"]


def test_the_store_refuses_a_name_that_is_not_utf8_with_a_message(tmp_path):
    from desktop.core.store.errors import StoreError

    store = store_in(tmp_path / "s")
    with pytest.raises(StoreError, match="not valid UTF-8 text; rename the file"):
        store.ensure_image(os.fsdecode(b"\xff\xfeimg.png"), 8, 8)
    assert store.image_count() == 0
    store.close()


@pytest.mark.parametrize("fmt, extra", [("yolo", {}), ("voc", {"keep_paths": True})])
def test_two_images_never_share_one_label_file(tmp_path, fmt, extra):
    store = _pacs_store(tmp_path)  # two patients' folders both hold IM0001.png
    out = tmp_path / fmt
    with pytest.raises(ExchangeError, match=r"Roe_Rick_PID112233/IM0001\.png and Doe_Janet_PID938271/IM0001\.png "
                                            r"would both be written as IM0001"):
        export_annotations(store, out, fmt, **extra)
    assert not out.exists() or not list(out.glob("IM0001.*"))
    store.close()
