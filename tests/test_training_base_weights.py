"""`loupe train detector`'s base model: a named model without its weights file is a clear error
(never a silent start from random weights); a bare RF-DETR size without its file starts from random
weights and says so; the file in the models folder is found."""

from __future__ import annotations

import pytest

from desktop.cli import main
from models.training.progress import Progress


def test_named_model_without_its_file_is_an_error_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    data = tmp_path / "data"
    for split in ("train", "valid"):
        (data / split).mkdir(parents=True)
        (data / split / "_annotations.coco.json").write_text(
            '{"images": [], "categories": [{"id": 1, "name": "a"}], "annotations": [{"id": 1}]}')
    rc = main(["train", "detector", "--data", str(data), "--model", "heartformer", "--out", str(tmp_path / "o"),
               "--progress", "none", "--device", "cpu"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "heartformer-v0.1.safetensors" in err and str(tmp_path / "models") in err
    assert not (tmp_path / "o" / "weights.safetensors").exists()


def test_bare_size_without_its_file_starts_from_random_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    msgs = []
    from desktop.commands.train import _detector_base_weights
    from models.registry import preset_card

    class P:
        def emit(self, event, **f):
            msgs.append((event, f.get("message", "")))

    assert _detector_base_weights(preset_card("rfdetr-nano"), None, P()) is None
    assert msgs and "random weights" in msgs[0][1]


def test_file_in_the_models_folder_is_used_and_a_missing_explicit_file_is_an_error(tmp_path, monkeypatch):
    from desktop.commands.train import _detector_base_weights
    from models.errors import WeightsError
    from models.registry import preset_card

    models = tmp_path / "models"
    models.mkdir()
    (models / "heartformer-v0.1.safetensors").write_bytes(b"stand-in")
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(models))
    got = _detector_base_weights(preset_card("heartformer"), None, Progress("none"))
    assert got == str(models / "heartformer-v0.1.safetensors")
    with pytest.raises(WeightsError, match="not found"):
        _detector_base_weights(preset_card("rfdetr-nano"), str(tmp_path / "typo.pth"), Progress("none"))
