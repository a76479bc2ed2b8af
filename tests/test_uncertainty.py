"""The review queue's uncertainty scores (models/uncertainty.py, decision 0130) against values
worked out by hand from the definitions, with the logarithms written out below each case."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from uncertainty_helpers import tiny_classifier

from models.uncertainty import (
    binary_entropy,
    classification_uncertainty,
    detection_uncertainty,
    has_dropout,
    margin_uncertainty,
    mc_dropout_probabilities,
    mc_dropout_uncertainty,
    multilabel_uncertainty,
)

# log2 values used below, to 6 places: log2 0.1 = -3.321928, log2 0.9 = -0.152003,
# log2 0.35 = -1.514573, log2 0.65 = -0.621488, log2 0.15 = -2.736966, log2 0.85 = -0.234465,
# log2 0.2 = -2.321928, log2 0.8 = -0.321928.
H_01 = 0.1 * 3.321928 + 0.9 * 0.152003  # 0.468996
H_035 = 0.35 * 1.514573 + 0.65 * 0.621488  # 0.934068
H_015 = 0.15 * 2.736966 + 0.85 * 0.234465  # 0.609840
H_02 = 0.2 * 2.321928 + 0.8 * 0.321928  # 0.721928


def test_binary_entropy_by_hand():
    assert binary_entropy(0.5) == 1.0
    assert binary_entropy(0.0) == binary_entropy(1.0) == 0.0
    assert binary_entropy(0.25) == pytest.approx(0.25 * 2 + 0.75 * 0.415037, abs=1e-6)  # 0.811278
    assert binary_entropy(0.1) == pytest.approx(H_01, abs=1e-6)
    assert binary_entropy(0.9) == pytest.approx(H_01, abs=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_entropy(1.2)


def test_detection_counts_the_band_and_the_entropy_of_the_shown_boxes():
    # threshold 0.3, band ±0.1: 0.35 and 0.25 sit in it, 0.9 and 0.1 do not -> 2.
    # shown (>= 0.3): 0.9 and 0.35 -> mean entropy (H(0.9) + H(0.35)) / 2 = 0.701532
    u = detection_uncertainty([0.1, 0.9, 0.25, 0.35], threshold=0.3)
    assert u.detail["in_band"] == 2 and u.detail["shown"] == 2
    assert u.value == pytest.approx(2 + (H_01 + H_035) / 2, abs=1e-5)
    assert u.method == "detection-band"


def test_detection_band_is_closed_and_top_k_caps_the_shown_boxes():
    # 0.4 and 0.2 lie exactly on the band's edges and count; top_k=1 keeps only 0.99's entropy
    u = detection_uncertainty([0.4, 0.2, 0.99], threshold=0.3, top_k=1)
    assert u.detail["in_band"] == 2
    assert u.value == pytest.approx(2 + binary_entropy(0.99), abs=1e-9)


def test_detection_with_nothing_shown_uses_the_best_score_and_nothing_at_all_is_zero():
    u = detection_uncertainty([0.05, 0.15], threshold=0.3)  # nothing in [0.2, 0.4], nothing >= 0.3
    assert u.detail["in_band"] == 0 and u.detail["shown"] == 0
    assert u.value == pytest.approx(H_015, abs=1e-5)
    assert detection_uncertainty([], threshold=0.3).value == 0.0


def test_detection_orders_doubtful_images_first():
    sure = detection_uncertainty([0.98, 0.97], 0.3).value  # two confident boxes
    one_doubt = detection_uncertainty([0.98, 0.31], 0.3).value
    two_doubts = detection_uncertainty([0.29, 0.31, 0.95], 0.3).value
    assert sure < 1 < one_doubt < 2 < two_doubts < 3


def test_margin_of_the_top_two():
    assert margin_uncertainty({"a": 0.7, "b": 0.2, "c": 0.1}).value == pytest.approx(0.5)  # 1 - (0.7 - 0.2)
    assert margin_uncertainty({"healthy": 0.5, "disease": 0.5}).value == pytest.approx(1.0)
    assert margin_uncertainty({"healthy": 0.99, "disease": 0.01}).value == pytest.approx(0.02)
    u = margin_uncertainty({"a": 0.1, "b": 0.6, "c": 0.3})
    assert (u.detail["top"], u.detail["second"]) == ("b", "c") and u.value == pytest.approx(0.7)


def test_multi_label_sums_each_labels_binary_entropy():
    # H(0.5) + H(0.1) + H(0) = 1 + 0.468996 + 0
    u = multilabel_uncertainty({"Effusion": 0.5, "Nodule": 0.1, "Hernia": 0.0})
    assert u.value == pytest.approx(1 + H_01, abs=1e-5)
    assert u.detail["least_certain"] == "Effusion"
    # a film with two findings the model is sure of is NOT uncertain (a softmax-style entropy over
    # the normalised sigmoids would call it maximally uncertain between the two)
    sure_two = multilabel_uncertainty({"Effusion": 0.99, "Cardiomegaly": 0.99, "Nodule": 0.01})
    assert sure_two.value == pytest.approx(3 * binary_entropy(0.99))
    assert sure_two.value < 0.25
    assert classification_uncertainty({"Effusion": 0.5}, multi_label=True).value == pytest.approx(1.0)
    assert classification_uncertainty({"a": 0.5, "b": 0.5}, multi_label=False).method == "margin"


def test_mc_dropout_entropy_of_the_mean_and_mutual_information():
    # one label, passes 0.2 and 0.8: mean 0.5 -> H = 1 bit; mean of the passes' entropies
    # (H(0.2) + H(0.8)) / 2 = 0.721928; mutual information 1 - 0.721928 = 0.278072
    u = mc_dropout_uncertainty([{"pneumonia": 0.2}, {"pneumonia": 0.8}], multi_label=True)
    assert u.value == pytest.approx(1.0)
    assert u.detail["mutual_information"] == pytest.approx(1 - H_02, abs=1e-5)
    # two classes, the passes disagree completely: mean (0.5, 0.5) -> 1 bit, all of it epistemic
    u = mc_dropout_uncertainty([{"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}], multi_label=False)
    assert u.value == pytest.approx(1.0) and u.detail["mutual_information"] == pytest.approx(1.0)
    # passes that agree: only aleatoric uncertainty, no mutual information
    u = mc_dropout_uncertainty([{"a": 0.5, "b": 0.5}] * 3, multi_label=False)
    assert u.value == pytest.approx(1.0) and u.detail["mutual_information"] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="at least 2"):
        mc_dropout_uncertainty([{"a": 1.0}], multi_label=True)


def test_mc_dropout_turns_on_only_dropout_and_restores_eval():
    rgb = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    model = tiny_classifier(0.5)
    assert has_dropout(model.torch_module)
    stats = model.torch_module.bn.running_mean.clone()
    samples = mc_dropout_probabilities(model, rgb, passes=8)
    assert len(samples) == 8 and len({round(s["pneumonia"], 6) for s in samples}) > 1  # passes differ
    assert model.torch_module.bn_was_training is False  # BatchNorm stayed in eval (unlike MONAI Label)
    assert torch.equal(model.torch_module.bn.running_mean, stats)
    assert not any(m.training for m in model.torch_module.modules())  # back in eval
    assert all(math.isclose(s["normal"] + s["pneumonia"], 1.0, abs_tol=1e-6) for s in samples)
    assert mc_dropout_probabilities(model, rgb, passes=8) == samples  # seeded: the same passes again

    plain = tiny_classifier(0.0)  # no dropout: every pass is the deterministic prediction
    assert not has_dropout(plain.torch_module)
    expected = plain.classify(rgb)
    for s in mc_dropout_probabilities(plain, rgb, passes=3):
        assert s == pytest.approx(expected, abs=1e-6)


def test_qings_transformer_has_dropout():
    from models.classification.qing import CNNTransformerModel

    assert has_dropout(CNNTransformerModel())
