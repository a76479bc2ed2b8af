"""Segment-anything models in the engine: Loupe's mask for a prompt equals the plain transformers
pipeline (processor, model, post_process_masks) on a real radiograph; the folder errors a user sees."""

from __future__ import annotations

import functools
import json
import shutil

import numpy as np
import pytest
import torch

from models import WeightsError, load_model
from models.registry import list_presets
from models.segmentation.tiny import write_tiny_folder

PRESETS = {"sam-vit-base": "sam", "medsam": "sam", "slimsam": "sam", "sam2.1-tiny": "sam2"}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("sam")
    # the same seeded weights under two processor configs: SAM's (ImageNet mean/std) and MedSAM's
    return {"sam": write_tiny_folder(root / "sam", "sam", "sam", seed=0),
            "medsam": write_tiny_folder(root / "medsam", "sam", "medsam", seed=0),
            "sam2": write_tiny_folder(root / "sam2", "sam2", "sam", seed=0)}


@pytest.fixture(scope="module")
def radiograph(shared_data):
    from PIL import Image

    gray = np.asarray(Image.open(shared_data / "nih" / "images" / "00000032_037.png").convert("L"))
    crop = gray[100:700, 200:610]  # 600 x 410: not square, so SAM's resize-then-pad path is exercised
    return np.ascontiguousarray(np.repeat(crop[..., None], 3, axis=2))


@functools.cache
def plain(folder, family):
    """transformers' own processor and model, read from the folder."""
    import transformers

    proc_cls, model_cls = ((transformers.Sam2Processor, transformers.Sam2Model) if family == "sam2"
                           else (transformers.SamProcessor, transformers.SamModel))
    return (proc_cls.from_pretrained(folder, local_files_only=True),
            model_cls.from_pretrained(folder, local_files_only=True).eval())


def reference(folder, family, rgb, points=None, box=None):
    """The plain transformers pipeline, with the pixels given to the whole model for each prompt."""
    proc, model = plain(folder, family)
    kwargs = {}
    if points:
        kwargs["input_points"] = [[[[x, y] for x, y, _ in points]]]
        kwargs["input_labels"] = [[[lab for _, _, lab in points]]]
    if box is not None:
        kwargs["input_boxes"] = [[list(box)]]
    enc = proc(images=rgb, return_tensors="pt", **kwargs)
    multimask = box is None and len(points or []) == 1
    with torch.no_grad():
        out = model(**enc, multimask_output=multimask)
    sizes = [enc["original_sizes"]] + ([] if family == "sam2" else [enc["reshaped_input_sizes"]])
    masks = proc.post_process_masks(out.pred_masks, *sizes)[0][0]
    iou = out.iou_scores[0, 0]
    best = int(torch.argmax(iou))
    return masks[best].numpy(), float(iou[best]), enc["pixel_values"]


def test_presets_name_the_four_models_as_folders():
    cards = {c.name: c for c in list_presets()}
    for name, arch in PRESETS.items():
        card = cards[name]
        assert card.task == "segmentation" and card.architecture == arch, name
        assert card.extra["weights_folder"] and card.weights and "/" not in card.weights
        page = card.extra["download"]["page"]
        assert page.startswith("https://huggingface.co/") and "folder" in card.extra["download"]["note"]
        assert "url" not in card.extra["download"]  # a folder: nothing one-file to fetch
    assert cards["medsam"].extra["download"]["page"].endswith("wanglab/medsam-vit-base")
    assert cards["sam2.1-tiny"].extra["download"]["page"].endswith("facebook/sam2.1-hiera-tiny")


@pytest.mark.shared_data
@pytest.mark.parametrize("preset,kind", [("sam-vit-base", "sam"), ("slimsam", "sam"), ("medsam", "medsam"),
                                         ("sam2.1-tiny", "sam2")])
@pytest.mark.parametrize("prompt", [
    {"points": [(205, 300, 1)]},  # one click: best of the three masks by predicted IoU
    {"points": [(205, 300, 1), (60, 80, 0)]},  # a click and an exclusion: one mask
    {"box": (120, 150, 330, 460)},
    {"box": (120, 150, 330, 460), "points": [(205, 300, 1)]},
], ids=["point", "points", "box", "box+point"])
def test_mask_equals_the_transformers_pipeline(folders, radiograph, preset, kind, prompt):
    family = "sam2" if kind == "sam2" else "sam"
    m = load_model(preset, weights=folders[kind], device="cpu")
    assert m.task == "segmentation"
    emb = m.embed(radiograph)
    mask, score = m.segment(emb, **prompt)
    want, want_score, _ = reference(folders[kind], family, radiograph, **prompt)
    assert mask.dtype == bool and mask.shape == radiograph.shape[:2]
    assert 0 < want.sum() < want.size  # a mask that could differ, neither empty nor everything
    assert np.array_equal(mask, want)
    assert score == pytest.approx(want_score, abs=1e-5)


@pytest.mark.shared_data
def test_medsam_preprocesses_by_its_own_config_not_sams(folders, radiograph):
    """Same weights, two folders that differ only in preprocessor_config.json: MedSAM's pixels are
    SamProcessor's for MedSAM's config, and its embedding is not the one SAM's config gives."""
    from transformers import SamProcessor

    med = load_model("medsam", weights=folders["medsam"], device="cpu")
    sam = load_model("sam-vit-base", weights=folders["sam"], device="cpu")
    med_cfg = json.loads((folders["medsam"] / "preprocessor_config.json").read_text())
    assert med_cfg["image_mean"] == [0.0, 0.0, 0.0] and med_cfg["image_std"] == [1.0, 1.0, 1.0]
    pix = SamProcessor.from_pretrained(folders["medsam"])(images=radiograph, return_tensors="pt")["pixel_values"]
    assert 0.0 <= float(pix[0, :, :600, :410].min()) and float(pix.max()) <= 1.0  # rescaled, no ImageNet stats
    from models.denormals import flushed

    with torch.no_grad(), flushed():  # the same arithmetic as `embed` (subnormals flushed, decision 0155)
        want = med.torch_module.get_image_embeddings(pix)
    e_med, e_sam = med.embed(radiograph), sam.embed(radiograph)
    assert torch.equal(e_med.features, want)
    diff = float((e_med.features - e_sam.features).abs().max())
    assert diff > 1e-2 * float(e_sam.features.abs().max())


@pytest.mark.shared_data
def test_one_embedding_serves_many_prompts_and_belongs_to_its_model(folders, radiograph):
    m = load_model("slimsam", weights=folders["sam"], device="cpu")
    emb = m.embed(radiograph)
    a, _ = m.segment(emb, box=(10, 10, 200, 200))
    b, _ = m.segment(emb, box=(150, 250, 400, 590))
    again, _ = m.segment(emb, box=(10, 10, 200, 200))
    assert np.array_equal(a, again) and not np.array_equal(a, b)
    other = load_model("sam2.1-tiny", weights=folders["sam2"], device="cpu")
    with pytest.raises(ValueError, match="computed by another model"):
        other.segment(emb, box=(10, 10, 200, 200))
    with pytest.raises(ValueError, match=r"\(x, y, 1\) to include or \(x, y, 0\) to exclude"):
        m.segment(emb, points=[(5, 5, 2)])
    with pytest.raises(ValueError, match="at least one point or a box"):
        m.segment(emb)


# -- the errors a user sees --------------------------------------------------------------------------
def test_missing_safetensors_names_the_file(folders, tmp_path):
    broken = shutil.copytree(folders["sam"], tmp_path / "medsam-vit-base")
    (broken / "model.safetensors").unlink()
    (broken / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(WeightsError, match=r"model.safetensors is missing: the medsam model's folder needs "
                                           r"config.json, model.safetensors and preprocessor_config.json "
                                           r"\(pytorch_model.bin is not read.*huggingface.co/wanglab/medsam-vit-base"):
        load_model("medsam", weights=broken)


def test_missing_preprocessor_config_names_the_file(folders, tmp_path):
    broken = shutil.copytree(folders["sam"], tmp_path / "f")
    (broken / "preprocessor_config.json").unlink()
    with pytest.raises(WeightsError, match=r"f/preprocessor_config.json is missing"):
        load_model("sam-vit-base", weights=broken)


def test_a_folder_of_another_architecture(tmp_path):
    from transformers import BertConfig, BertModel

    folder = tmp_path / "bert"
    BertModel(BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8,
                         vocab_size=20)).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text("{}")
    with pytest.raises(WeightsError, match=r"bert/config.json is for a bert model \(BertModel\), not for medsam: "
                                           r"medsam needs a SamModel folder"):
        load_model("medsam", weights=folder)


def test_a_sam_folder_given_to_sam2_and_back(folders):
    with pytest.raises(WeightsError, match=r"config.json is for a sam model \(SamModel\), not for sam2.1-tiny"):
        load_model("sam2.1-tiny", weights=folders["sam"])
    with pytest.raises(WeightsError, match=r"config.json is for a sam2 model \(Sam2Model\), not for slimsam"):
        load_model("slimsam", weights=folders["sam2"])


def test_tensors_of_another_size_do_not_load(folders, tmp_path):
    other = write_tiny_folder(tmp_path / "wide", "sam", "sam", hidden=48)
    broken = shutil.copytree(folders["sam"], tmp_path / "mixed")
    shutil.copy(other / "model.safetensors", broken / "model.safetensors")
    with pytest.raises(WeightsError, match=r"mixed/model.safetensors does not (load as SamModel|fit its config.json)"):
        load_model("sam-vit-base", weights=broken)


def test_a_preset_given_one_file_or_nothing(folders, tmp_path, monkeypatch):
    with pytest.raises(WeightsError, match=r"model.safetensors is a file; the medsam model's weights are a folder "
                                           r"holding config.json, model.safetensors and preprocessor_config.json"):
        load_model("medsam", weights=folders["sam"] / "model.safetensors")
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "empty"))
    with pytest.raises(WeightsError, match=r"the sam2.1-tiny model needs its weights folder sam2.1-hiera-tiny "
                                           r"\(config.json, model.safetensors, preprocessor_config.json\)"):
        load_model("sam2.1-tiny")


def test_the_preset_finds_its_folder_in_the_models_folder(folders, tmp_path, monkeypatch):
    shutil.copytree(folders["sam"], tmp_path / "models" / "SlimSAM-uniform-77")
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    m = load_model("slimsam", device="cpu")
    assert m.task == "segmentation" and m.name == "slimsam"
