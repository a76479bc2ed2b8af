"""The EfficientDet authors' CSV as an import format, and label mapping on import, on NIH's real
box list (MODELS.md section 2): NIH's Mass and Nodule become the authors' "Nodule/Mass"."""

from __future__ import annotations

import csv
import json

import pytest
from exchange_helpers import store_in
from PIL import Image

from desktop.cli import main
from desktop.core.exchange import ImportProblems, detect_format, import_annotations
from desktop.core.exchange.authors_csv import parse_label_map, read_label_map
from desktop.core.exchange.coco_export import coco_dict
from desktop.core.exchange.errors import ExchangeError
from models.metrics.detection import evaluate_detection

pytestmark = pytest.mark.shared_data

# MODELS.md section 2: the authors' `label` column
AUTHORS = ["Atelectasis", "Cardiomegaly", "Effusion", "Infiltrate", "Nodule/Mass", "Pneumonia", "Pneumothorax"]
MERGE = {"Mass": "Nodule/Mass", "Nodule": "Nodule/Mass"}


def _nih_rows(shared_data):
    with open(shared_data / "nih" / "BBox_List_2017.csv", newline="") as f:
        return [(r[0], r[1], *map(float, r[2:6])) for r in list(csv.reader(f))[1:]]


def _folder(tmp_path, name, images):
    folder = tmp_path / name
    folder.mkdir()
    for image in images:  # NIH's films are 1024 x 1024; the importer reads the size from the header
        Image.new("L", (1024, 1024)).save(folder / image)
    return folder


def _box_rows(store):
    return sorted((i.rel_path, b.category, b.x, b.y, b.w, b.h) for i in store.images() for b in store.boxes(i.id))


def _authors_csv(path, rows):
    """The authors' train_df.csv, written as their pandas code did: index column, merged label, class number."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["", "Image Index", "Finding Label", "x", "y", "w", "h", "label"])
        for n, (image, finding, x, y, bw, bh) in enumerate(rows):
            merged = MERGE.get(finding, finding)
            w.writerow([n, image, merged, repr(x), repr(y), repr(bw), repr(bh), AUTHORS.index(merged)])


def test_nih_list_mapped_on_import_equals_the_authors_csv(shared_data, tmp_path, capsys):
    rows = _nih_rows(shared_data)
    images = sorted({r[0] for r in rows if r[1] in MERGE} | {r[0] for r in rows if r[1] == "Effusion"})
    nih = _folder(tmp_path, "nih", images)
    # the CLI: `loupe import FOLDER BBox_List_2017.csv --map Mass=Nodule/Mass --map Nodule=Nodule/Mass`
    assert main(["import", str(nih), str(shared_data / "nih" / "BBox_List_2017.csv"),
                 "--map", "Mass=Nodule/Mass", "--map", "Nodule=Nodule/Mass"]) == 0
    out = capsys.readouterr().out
    assert "labels mapped: Mass -> Nodule/Mass, Nodule -> Nodule/Mass" in out
    want = sorted((r[0], MERGE.get(r[1], r[1]), *r[2:]) for r in rows if r[0] in set(images))
    assert sum(1 for r in rows if r[1] in MERGE) == 164 and len(want) > 164
    with store_in(nih) as store:
        got = _box_rows(store)
        gt = coco_dict(store)
    assert got == want  # every box, exact floats, Mass and Nodule merged
    # the authors' own CSV of the same rows, told from its header, imports to the same boxes
    authors = tmp_path / "train_df.csv"
    _authors_csv(authors, rows)
    assert detect_format(authors) == "authors-csv"
    other = _folder(tmp_path, "authors", images)
    with store_in(other) as store:
        report = import_annotations(store, authors, "authors-csv")
        assert report.skipped == len(rows) - len(want) and not report.problems
        assert _box_rows(store) == want
    # ... and evaluation against it sees the model's class, not NIH's two
    m = evaluate_detection(gt, [])
    assert m["per_class"]["Nodule/Mass"]["n_gt"] == 164
    assert not {"Mass", "Nodule"} & set(m["per_class"])


def test_authors_csv_with_a_shifted_label_is_refused_naming_the_line(shared_data, tmp_path):
    rows = [r for r in _nih_rows(shared_data) if r[1] == "Effusion"][:3]
    path = tmp_path / "val_df.csv"
    _authors_csv(path, rows)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",3"  # Effusion written with Infiltrate's number
    path.write_text("\n".join(lines) + "\n")
    folder = _folder(tmp_path, "f", sorted({r[0] for r in rows}))
    with store_in(folder) as store:
        with pytest.raises(ImportProblems) as err:
            import_annotations(store, path, "authors-csv")
        assert store.box_count(include_deleted=True) == 0
    msg = str(err.value)
    assert "val_df.csv, line 3" in msg and "label 3 is Infiltrate" in msg and "'Effusion'" in msg


def test_label_mapping_specs_and_files(tmp_path, capsys):
    assert parse_label_map(["Mass=Nodule/Mass", " Nodule = Nodule/Mass "]) == MERGE
    with pytest.raises(ExchangeError, match="'Mass': write it as OLD=NEW"):
        parse_label_map(["Mass"])
    with pytest.raises(ExchangeError, match="'Mass' is mapped twice"):
        parse_label_map(["Mass=Nodule/Mass", "Mass=Nodule"])
    (tmp_path / "map.json").write_text(json.dumps(MERGE))
    (tmp_path / "map.txt").write_text("# NIH -> the authors\nMass=Nodule/Mass\nNodule=Nodule/Mass\n")
    assert read_label_map(tmp_path / "map.json") == read_label_map(tmp_path / "map.txt") == MERGE
    (tmp_path / "bad.txt").write_text("Mass -> Nodule/Mass\n")
    assert main(["import", str(tmp_path), str(tmp_path / "map.json"), "--map-file", str(tmp_path / "bad.txt")]) == 2
    assert "bad.txt" in capsys.readouterr().err
