"""`loupe eval --captions`: references CSV + captions JSON -> metrics JSON, and clear errors."""

from __future__ import annotations

import json

import pytest

from desktop.cli import main
from models.captioning.metrics import caption_metrics


def _write(tmp_path):
    refs = tmp_path / "refs.csv"
    refs.write_text("ID,Caption\nimg_1,chest x ray showing a small effusion\nimg_1,small pleural effusion\n"
                    "img_2,ct of the abdomen\nimg_3,never captioned\n")
    caps = tmp_path / "captions.json"
    caps.write_text(json.dumps({"captions": {"/data/img_1.png": "chest x ray with a small effusion",
                                             "/data/img_2.dcm": "abdominal ct", "/x/other.png": "zzz"}}))
    return refs, caps


def test_eval_captions_matches_by_name_and_reports_metrics(tmp_path):
    refs, caps = _write(tmp_path)
    out = tmp_path / "metrics.json"
    rc = main(["eval", "--captions", "--references", str(refs), "--pred", str(caps), "--out", str(out)])
    assert rc == 0
    got = json.loads(out.read_text())
    expected = caption_metrics(["chest x ray with a small effusion", "abdominal ct"],
                               [["chest x ray showing a small effusion", "small pleural effusion"],
                                ["ct of the abdomen"]])
    for k in ("bleu", "rouge_l", "cider"):
        assert got[k] == pytest.approx(expected[k])
    assert got["n"] == 2 and got["unmatched_captions"] == ["other"]
    assert got["images_without_caption"] == ["img_3"]
    assert [p["image"] for p in got["per_image"]] == ["img_1", "img_2"]


def test_eval_captions_bad_inputs_are_clear(tmp_path, capsys):
    refs, caps = _write(tmp_path)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n")
    assert main(["eval", "--captions", "--references", str(bad_csv), "--pred", str(caps)]) == 2
    assert "bad.csv: needs an image column" in capsys.readouterr().err
    assert main(["eval", "--captions", "--references", str(refs)]) == 2
    assert "--pred" in capsys.readouterr().err
    none = tmp_path / "none.json"
    none.write_text(json.dumps({"q.png": "x"}))
    assert main(["eval", "--captions", "--references", str(refs), "--pred", str(none)]) == 2
    assert "no caption matches" in capsys.readouterr().err


@pytest.mark.shared_data
def test_loupe_caption_on_a_folder_decodes_in_batches_with_the_per_image_captions(tmp_path, shared_data,
                                                                                    monkeypatch):
    """`loupe caption` on several images shares each decode between them (one weight pass per
    step for the batch) and writes the captions each image gets alone; a bad file is an error entry."""
    from desktop.commands import caption as caption_cmd
    from models import load_model
    from models.captioning.captioner import CaptionModel
    from tests.caption_helpers import build_card_model, save_card_weights

    weights = save_card_weights(build_card_model(seed=3), tmp_path)
    vocab = shared_data / "vocab" / "bert-base-uncased-vocab.txt"
    images = sorted((shared_data / "nih" / "images").glob("*.png"))[:3]
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    batches = []
    real = CaptionModel.caption_prepared
    monkeypatch.setattr(CaptionModel, "caption_prepared",
                        lambda self, tensors, **kw: batches.append(len(tensors)) or real(self, tensors, **kw))
    out = tmp_path / "caps.json"
    rc = main(["caption", *map(str, images), str(bad), "--model", "roco-captioner", "--weights", str(weights),
               "--vocab", str(vocab), "--max-len", "12", "--device", "cpu", "--out", str(out)])
    assert rc == 0
    got = json.loads(out.read_text())
    assert batches == [len(images)]  # one decode for the three readable images
    assert list(got["errors"]) == [str(bad)] and "broken.png" in got["errors"][str(bad)]
    model = load_model("roco-captioner", weights=weights, device="cpu", vocab=vocab)
    for path in images:  # each equals its caption alone (which test_captioning checks against the card's loop)
        assert got["captions"][str(path)] == model.caption(caption_cmd.read_rgb(path), max_len=12)
