"""The fast COCO writer writes exactly the text json.dumps writes for coco_dict, for every export
option, with awkward file names and floats; a non-finite coordinate falls back to json."""

from __future__ import annotations

import itertools
import json

import pytest

from desktop.core.exchange import coco_dict, export_coco
from desktop.core.exchange.coco_text import coco_text
from desktop.core.store import open_store


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path)
    s.set_label_set(["heart", 'lung "left"', "côte"])
    a = s.ensure_image('sub dir/ä "q"\\x.png', 640, 480)
    b = s.ensure_image("b.dcm", 512, 512)
    s.ensure_image("empty.png", 10, 10)
    s.add_box(a, "heart", 0.1 + 0.2, 1 / 3, 10.0, 1e-7 + 5)
    s.add_box(b, 'lung "left"', 100.5, 2.0, 3.0, 4.0)
    p1, p2, p3 = s.replace_predictions(b, "m", [("côte", 1, 2, 3, 4, 0.912345678901), ("heart", 5, 5, 5, 5, 0.5),
                                                ("heart", 7, 7, 7, 7, 0.25)])
    s.accept_predictions(b, [p1])
    s.delete_box(p3)
    s.set_review_status(b, "done")
    yield s
    s.close()


@pytest.mark.parametrize("only_reviewed, include_predictions, with_scores",
                         list(itertools.product((False, True), repeat=3)))
def test_text_equals_json_dumps_of_coco_dict(store, only_reviewed, include_predictions, with_scores):
    opts = {"only_reviewed": only_reviewed, "include_predictions": include_predictions, "with_scores": with_scores}
    want = json.dumps(coco_dict(store, **opts), separators=(",", ":"))
    assert coco_text(store, **opts) == want
    data = json.loads(want)
    assert len(data["annotations"]) == (2 if only_reviewed else 3) + (1 if include_predictions else 0)
    assert [a["id"] for a in data["annotations"]] == list(range(1, len(data["annotations"]) + 1))


def test_export_writes_it_and_pycocotools_reads_it(store, tmp_path):
    from pycocotools.coco import COCO

    out = export_coco(store, tmp_path / "out", with_scores=True, include_predictions=True, keep_paths=True)
    coco = COCO(str(out))
    assert len(coco.getAnnIds()) == 4 and coco.loadImgs([1])[0]["file_name"] == 'sub dir/ä "q"\\x.png'


def test_a_non_finite_coordinate_falls_back_to_json(store):
    iid = store.image_id("empty.png")
    store.add_box(iid, "heart", float("inf"), 0, 1, 1)
    text = coco_text(store)
    assert text == json.dumps(coco_dict(store), separators=(",", ":")) and "Infinity" in text
