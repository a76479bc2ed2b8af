"""`loupe detect` and `loupe classify` end to end: files written, read back by pycocotools / json,
bad files reported and skipped."""

from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from desktop.cli import main
from models import registry
from models.base import Detections, LoupeModel

pytestmark = pytest.mark.shared_data


class FixedDetector(LoupeModel):
    """A stand-in detector registered through the architecture seam: one box at a known place."""

    task = "detection"

    def detect(self, rgb, threshold=None):
        h, w = rgb.shape[:2]
        boxes = np.array([[w * 0.1, h * 0.2, w * 0.5, h * 0.6], [0, 0, 10, 10]], np.float32)
        dets = Detections(boxes, np.array([0.9, 0.2], np.float32), np.array([1, 0], np.int64),
                          [self.card.class_names[1], self.card.class_names[0]])
        return dets.filter(self.card.default_threshold if threshold is None else threshold)


def load_fixed(card, weights, device, **options):
    return FixedDetector(card, nn.Identity(), device)


@pytest.fixture
def images(shared_data, tmp_path):
    a = shared_data / "nih/images/00000032_037.png"
    b = shared_data / "coco_rbc/test" / sorted(p.name for p in (shared_data / "coco_rbc/test").glob("*.jpg"))[0]
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return [a, b, bad]


def test_detect_writes_coco_that_pycocotools_reads(images, tmp_path, monkeypatch, capsys):
    from pycocotools.coco import COCO

    monkeypatch.setitem(registry.ARCHITECTURES, "fixed-test", f"{__name__}:load_fixed")
    card = {"name": "fixed", "architecture": "fixed-test", "task": "detection",
            "class_names": ["parent", "thing"], "default_threshold": 0.3}
    (tmp_path / "fixed.json").write_text(json.dumps(card))
    out = tmp_path / "dets.json"
    rc = main(["detect", *map(str, images), "--model", str(tmp_path / "fixed.json"), "--device", "cpu",
               "--out", str(out)])
    assert rc == 0
    assert "skipped" in capsys.readouterr().err
    data = json.loads(out.read_text())
    assert [im["file_name"] for im in data["images"]] == [str(images[0]), str(images[1])]
    assert str(images[2]) in data["errors"] and "broken.png" in data["errors"][str(images[2])]
    coco = COCO()
    coco.dataset = data
    coco.createIndex()
    res = coco.loadRes(data["annotations"])  # a valid COCO results list for these images
    ann = res.loadAnns(res.getAnnIds(imgIds=[1]))
    assert len(ann) == 1 and ann[0]["category_id"] == 1 and ann[0]["score"] == pytest.approx(0.9)
    assert ann[0]["bbox"] == pytest.approx([102.4, 204.8, 409.6, 409.6])  # on the 1024x1024 image
    assert coco.loadCats(1)[0]["name"] == "thing"
    # --threshold lowers the card's default
    main(["detect", str(images[1]), "--model", str(tmp_path / "fixed.json"), "--threshold", "0.1",
          "--out", str(out)])
    assert len(json.loads(out.read_text())["annotations"]) == 2


def test_classify_writes_probabilities(images, tmp_path, capsys):
    torch.manual_seed(8)
    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    torch.save(net.state_dict(), tmp_path / "checkpoint.pt")
    folder = tmp_path / "imgs"
    folder.mkdir()
    for p in images:
        shutil.copy(p, folder / p.name)
    out = tmp_path / "probs.json"
    rc = main(["classify", str(folder), "--model", "oasis-resnet18", "--weights", str(tmp_path / "checkpoint.pt"),
               "--device", "cpu", "--out", str(out)])
    assert rc == 0
    probs = json.loads(out.read_text())
    assert sorted(probs) == sorted(str(folder / p.name) for p in images[:2])
    from PIL import Image

    from models import load_model

    m = load_model("oasis-resnet18", weights=tmp_path / "checkpoint.pt", device="cpu")
    want = m.classify(np.asarray(Image.open(images[0]).convert("RGB")))
    assert probs[str(folder / images[0].name)] == pytest.approx(want, abs=1e-5)
    assert "broken.png" in capsys.readouterr().err


def test_classify_with_missing_weights_exits_2(tmp_path, capsys):
    rc = main(["classify", str(tmp_path / "x.png"), "--model", "chexnet", "--weights", str(tmp_path / "no.pth")])
    assert rc == 2 and "weights file not found" in capsys.readouterr().err


def test_classify_temporal_groups_by_file_name_pattern(shared_data, tmp_path):
    from models import load_model
    from models.classification.temporal import TemporalHead

    torch.manual_seed(9)
    net = torchvision.models.resnet18(weights=None)  # torchvision's ImageNet layout, fc 1000x512
    torch.save(net.state_dict(), tmp_path / "backbone.pt")
    head = TemporalHead(512).eval()
    torch.save(head.state_dict(), tmp_path / "head.pt")
    src = sorted((shared_data / "nih/images").glob("000*_0*.png"))[:3]
    names = ["P7_day2.png", "P7_day10.png", "P9_day1.png"]  # natural order: day2 before day10
    for s, n in zip(src, names):
        shutil.copy(s, tmp_path / n)
    out = tmp_path / "seq.json"
    rc = main(["classify", *(str(tmp_path / n) for n in names), "--model", "oasis-temporal",
               "--weights", str(tmp_path / "head.pt"), "--backbone-weights", str(tmp_path / "backbone.pt"),
               "--pattern", r"(?P<patient>P\d+)_day(?P<date>\d+)", "--device", "cpu", "--out", str(out)])
    assert rc == 0
    probs = json.loads(out.read_text())
    m = load_model("oasis-temporal", weights=tmp_path / "head.pt", device="cpu",
                   backbone_weights=str(tmp_path / "backbone.pt"))
    from desktop.commands.detect import read_rgb

    day2, day10, other = (read_rgb(tmp_path / n) for n in names)
    assert probs[str(tmp_path / "P7_day10.png")] == pytest.approx(m.classify_sequence([day2, day10]), abs=1e-6)
    assert probs[str(tmp_path / "P7_day2.png")] == pytest.approx(m.classify_sequence([day2]), abs=1e-6)
    assert probs[str(tmp_path / "P9_day1.png")] == pytest.approx(m.classify_sequence([other]), abs=1e-6)


def test_classify_logits_are_the_networks_raw_outputs(images, tmp_path):
    """`--logits` writes what the authors' AUC ranks by: the raw fc outputs on the authors' input."""
    from PIL import Image

    torch.manual_seed(8)
    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    torch.save(net.state_dict(), tmp_path / "checkpoint.pt")
    out = tmp_path / "logits.json"
    rc = main(["classify", str(images[0]), "--model", "oasis-resnet18", "--weights", str(tmp_path / "checkpoint.pt"),
               "--device", "cpu", "--logits", "--out", str(out)])
    assert rc == 0
    grey = Image.open(images[0]).convert("RGB").convert("L").resize((256, 256), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(grey, np.float32) / 255.0).expand(3, -1, -1).unsqueeze(0)
    with torch.no_grad():
        want = net.eval()(x)[0].tolist()
    got = json.loads(out.read_text())[str(images[0])]
    assert list(got) == ["healthy", "disease"]
    assert list(got.values()) == pytest.approx(want, abs=1e-4)


@pytest.mark.skipif(os.name == "nt" or sys.platform == "darwin", reason="file names are bytes only on Linux")
def test_detect_on_a_folder_says_which_names_it_leaves_out(images, tmp_path, monkeypatch, capsys):
    """A name that is not UTF-8 is left out (as the window leaves it out, decision 0118), and said:
    before, `loupe detect FOLDER` skipped it without a word."""
    monkeypatch.setitem(registry.ARCHITECTURES, "fixed-test", f"{__name__}:load_fixed")
    card = {"name": "fixed", "architecture": "fixed-test", "task": "detection",
            "class_names": ["parent", "thing"], "default_threshold": 0.3}
    (tmp_path / "fixed.json").write_text(json.dumps(card))
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(images[0], folder / "good.png")
    shutil.copy(images[0], os.fsdecode(os.fsencode(str(folder)) + b"/\xffscan.png"))
    out = tmp_path / "dets.json"
    rc = main(["detect", str(folder), "--model", str(tmp_path / "fixed.json"), "--device", "cpu", "--out", str(out)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "\\xffscan.png" in err and "not valid UTF-8" in err and "rename the file" in err
    data = json.loads(out.read_text())
    assert [im["file_name"] for im in data["images"]] == [str(folder / "good.png")]
    (bad_name,) = data["errors"]
    assert bad_name.endswith("\\xffscan.png") and "rename the file" in data["errors"][bad_name]
