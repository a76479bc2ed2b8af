"""BLEU/ROUGE-L/CIDEr-D against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import sacrebleu

from models.captioning.metrics import (
    bleu,
    caption_metrics,
    cider,
    cider_scores,
    lcs_length,
    rouge_l,
    rouge_l_sentence,
)


def test_lcs_and_rouge_l_by_hand():
    assert lcs_length("a b c d".split(), "a c e".split()) == 2
    assert rouge_l_sentence("the cat sat on the mat", ["the cat is on the mat"]) == pytest.approx(5 / 6)
    # P = 2/4, R = 2/3, F = (1 + 1.44) P R / (R + 1.44 P)
    expected = 2.44 * 0.5 * (2 / 3) / ((2 / 3) + 1.44 * 0.5)
    assert rouge_l_sentence("a b c d", ["a c e"]) == pytest.approx(expected)
    # best precision and best recall over the references
    assert rouge_l_sentence("a b", ["a b c d", "x"]) == pytest.approx(2.44 * 1 * 0.5 / (0.5 + 1.44))
    assert rouge_l(["A, b!", "zzz"], [["a b"], ["q"]]) == pytest.approx(0.5)


def test_cider_by_hand():
    # image 1: "a b" vs "a c"; image 2: "d e" vs "d e". Every n-gram is in one image: weight log 2.
    # image 1 unigram cosine 1/2, bigram 0, no 3-/4-grams: (0.5 + 0) / 4 * 10 = 1.25
    # image 2: unigram 1, bigram 1: (1 + 1) / 4 * 10 = 5
    s = cider_scores(["a b", "d e"], [["a c"], ["d e"]])
    assert s == pytest.approx([1.25, 5.0])
    assert cider(["a b", "d e"], [["a c"], ["d e"]]) == pytest.approx(3.125)
    # identical four-word captions with no shared n-grams across images: 10
    assert cider(["w x y z", "p q r s"], [["w x y z"], ["p q r s"]]) == pytest.approx(10.0)
    # every image has the same reference: idf is 0 for all n-grams
    assert cider(["a b c", "a b c"], [["a b c"], ["a b c"]]) == 0.0
    # 11 words vs 4 (all weights log 2): cosines 4/sqrt(11*4), 3/sqrt(10*3), 2/sqrt(9*2), 1/sqrt(8),
    # times the length penalty exp(-7^2 / (2 * 6^2)) (coco-caption's length: the bigram count)
    cos = [4 / math.sqrt(44), 3 / math.sqrt(30), 2 / math.sqrt(18), 1 / math.sqrt(8)]
    expected = math.exp(-49 / 72) * sum(cos) / 4 * 10
    assert cider_scores(["a b c d e f g h i j k", "z y"], [["a b c d"], ["z y"]])[0] == pytest.approx(expected)


def test_bleu_is_sacrebleus_with_uneven_reference_counts():
    hyps = ["the cat sat on the mat", "a dog runs fast"]
    refs = [["the cat sat on a mat", "a cat sat on the mat"], ["a dog runs fast"]]
    assert bleu(hyps, refs) == pytest.approx(
        sacrebleu.corpus_bleu(hyps, [[refs[0][0], refs[1][0]], [refs[0][1], None]]).score)
    assert bleu(["a b c d e"], [["a b c d e"]]) == pytest.approx(100.0)
    m = caption_metrics(hyps, refs)
    assert set(m) == {"bleu", "rouge_l", "cider", "n"} and m["n"] == 2
    with pytest.raises(ValueError):
        caption_metrics(hyps, refs[:1])
