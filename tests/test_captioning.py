"""The ROCOv2 captioner: published layout loads, greedy tokens equal the card's loop, the decoding
controls do what they say, and bad vocabularies/weights get clear errors. The reference model is
tests/caption_helpers.CardCaptioner, written from MODELS.md section 4, not from Loupe's code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from caption_helpers import (
    CLS,
    SEP,
    OldReadingGraphLayer,
    build_card_model,
    card_greedy,
    card_image_tensor,
    save_card_weights,
)
from PIL import Image

from models import load_model
from models.errors import LoupeError, ModelSpecError, WeightsError

NIH_IMAGE = "nih/images/00000032_037.png"


@pytest.fixture(scope="module")
def card_model():
    return build_card_model(seed=0)


@pytest.fixture(scope="module")
def weights_file(card_model, tmp_path_factory):
    return save_card_weights(card_model, tmp_path_factory.mktemp("roco"))


@pytest.fixture(scope="module")
def vocab(shared_data):
    return shared_data / "vocab" / "bert-base-uncased-vocab.txt"


@pytest.fixture(scope="module")
def loupe_model(weights_file, vocab):
    return load_model("roco-captioner", weights=weights_file, device="cpu", vocab=vocab)


@pytest.mark.shared_data
def test_published_layout_loads_strictly(weights_file, loupe_model, card_model):
    from transformers import ResNetConfig, ResNetModel

    sd = torch.load(weights_file, weights_only=True)
    n_encoder = len(ResNetModel(ResNetConfig()).state_dict())
    assert sum(k.startswith("encoder.") for k in sd) == n_encoder == 318
    assert tuple(sd["pos_encoder"].shape) == (1, 2000, 512)
    assert tuple(sd["embedding.weight"].shape) == (30522, 512)
    assert tuple(sd["vis_proj.weight"].shape) == (512, 2048)
    assert tuple(sd["graph_layer.msg_linear.weight"].shape) == (512, 512)
    assert {k.split(".")[2] for k in sd if k.startswith("decoder.layers.")} == {"0", "1", "2", "3"}
    assert tuple(sd["decoder.layers.3.linear1.weight"].shape) == (1024, 512)
    assert tuple(sd["fc_out.weight"].shape) == (30522, 512)
    loaded = loupe_model.torch_module.state_dict()
    assert loaded.keys() == sd.keys()
    assert all(torch.equal(loaded[k], sd[k]) for k in sd)
    assert loupe_model.task == "captioning" and loupe_model.tokenizer.vocab_size == 30522


@pytest.mark.shared_data
def test_image_memory_is_the_cards_graph_layer_not_the_old_reading(loupe_model, card_model, shared_data):
    """Sequence neighbours with wrap-around, Hardtanh on the sum (MODELS.md section 4). The old 2-D
    3x3 window with tokens + Hardtanh(message) gives another memory from the same weights."""
    x = card_image_tensor(shared_data / NIH_IMAGE)
    old = build_card_model(seed=0, graph_layer=OldReadingGraphLayer)
    old.load_state_dict(card_model.state_dict())
    with torch.no_grad():
        want = card_model.memory(x)
        got = loupe_model.torch_module.encode(x)
        old_memory = old.memory(x)
    assert tuple(got.shape) == (1, 49, 512)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert float(got.abs().max()) <= 1.0 and float((got.abs() == 1.0).float().mean()) > 0.01  # clamped sum
    assert float((old_memory - want).abs().max()) > 0.5 and float(old_memory.abs().max()) > 1.5

    # wrap-around along the sequence: token 0 hears token 48 (a 7x7 grid has them in opposite corners)
    layer = loupe_model.torch_module.graph_layer
    probe = torch.zeros(1, 49, 512)
    probe[0, 48] = 0.5
    with torch.no_grad():
        w, b = layer.msg_linear.weight.clone(), layer.msg_linear.bias.clone()
        try:
            layer.msg_linear.weight.copy_(torch.eye(512))
            layer.msg_linear.bias.zero_()
            layer.steps = 1
            out = layer(probe)
        finally:
            layer.steps = 3
            layer.msg_linear.weight.copy_(w)
            layer.msg_linear.bias.copy_(b)
    assert float(out[0, 0, 0]) == pytest.approx(0.5 / 3) and float(out[0, 47, 0]) == pytest.approx(0.5 / 3)
    assert float(out[0, 48, 0]) == pytest.approx(0.5 + 0.5 / 3) and float(out[0, 41, 0]) == 0.0


@pytest.mark.shared_data
def test_preprocessing_is_the_cards(loupe_model, shared_data):
    path = shared_data / NIH_IMAGE
    rgb = np.asarray(Image.open(path).convert("RGB"))
    assert torch.equal(loupe_model.preprocess(rgb), card_image_tensor(path))


@pytest.mark.shared_data
def test_greedy_tokens_equal_card_loop_on_real_image(loupe_model, card_model, shared_data):
    path = shared_data / NIH_IMAGE
    max_len = 12  # the full 80-token comparison is the slow test below and the benchmark
    expected = card_greedy(card_model, card_image_tensor(path), max_len=max_len)
    got = loupe_model.generate(np.asarray(Image.open(path).convert("RGB")), max_len=max_len)
    assert got == expected
    assert len(expected) == max_len + 1 and len(set(expected)) >= 6  # varied tokens: a real check
    text = loupe_model.caption(np.asarray(Image.open(path).convert("RGB")), max_len=max_len)
    assert text == loupe_model.tokenizer.decode(expected, skip_special_tokens=True) and text


@pytest.mark.slow
@pytest.mark.shared_data
def test_greedy_80_tokens_equal_card_loop(loupe_model, card_model, shared_data):
    path = shared_data / "nih/images/00000150_002.png"
    expected = card_greedy(card_model, card_image_tensor(path), max_len=80)
    assert loupe_model.generate(np.asarray(Image.open(path).convert("RGB")), max_len=80) == expected


@pytest.mark.shared_data
def test_greedy_stops_at_sep_and_min_length_defers_it(card_model, vocab, tmp_path):
    import copy

    model = copy.deepcopy(card_model)
    with torch.no_grad():
        model.fc_out.bias[SEP] = 1e4  # [SEP] always wins
    path = save_card_weights(model, tmp_path)
    m = load_model("roco-captioner", weights=path, device="cpu", vocab=vocab)
    rgb = np.full((64, 64, 3), 90, np.uint8)
    assert m.generate(rgb) == card_greedy(model, m.preprocess(rgb)) == [CLS, SEP]
    toks = m.generate(rgb, max_len=12, min_length=5)
    assert toks[-1] == SEP and len(toks) == 7 and SEP not in toks[1:-1]
    beam = m.generate(rgb, max_len=12, beam_size=3, min_length=4)
    assert beam[-1] == SEP and len(beam) == 6


@pytest.mark.shared_data
def test_no_repeat_ngram_and_repetition_penalty_on_the_model(loupe_model, shared_data):
    rgb = np.asarray(Image.open(shared_data / "nih/images/00000150_002.png").convert("RGB"))
    plain = loupe_model.generate(rgb, max_len=30)
    assert len(set(plain)) < len(plain)  # the random model does repeat tokens
    unigram = loupe_model.generate(rgb, max_len=30, no_repeat_ngram_size=1)
    assert len(set(unigram)) == len(unigram) and unigram != plain
    constrained = loupe_model.generate(rgb, max_len=30, no_repeat_ngram_size=2)
    cpairs = list(zip(constrained, constrained[1:]))
    assert len(set(cpairs)) == len(cpairs)
    penalised = loupe_model.generate(rgb, max_len=30, repetition_penalty=1e6)
    assert len(set(penalised[1:])) > len(set(plain[1:]))


@pytest.mark.shared_data
def test_beam_search_runs_on_the_model_and_differs_in_score(loupe_model, card_model, shared_data):
    path = shared_data / NIH_IMAGE
    rgb = np.asarray(Image.open(path).convert("RGB"))
    beam = loupe_model.generate(rgb, max_len=12, beam_size=3, length_penalty=0.0)
    greedy = loupe_model.generate(rgb, max_len=12)

    def logprob(seq):  # teacher-forced log-probability under the card's own forward
        x = card_image_tensor(path)
        with torch.no_grad():
            lp = torch.log_softmax(card_model(x, torch.tensor([seq[:-1]])), -1)[0]
        return float(sum(lp[i, t] for i, t in enumerate(seq[1:])))

    assert len(beam) == 13 and beam[0] == CLS
    assert logprob(beam) >= logprob(greedy) - 1e-3


def test_missing_vocabulary_is_a_clear_error(weights_file, tmp_path):
    with pytest.raises(ModelSpecError, match="not found"):
        load_model("roco-captioner", weights=weights_file, device="cpu", vocab=tmp_path / "nope.txt")


def test_vocabulary_of_wrong_size_is_a_clear_error(weights_file, tmp_path):
    small = tmp_path / "vocab.txt"
    small.write_text("\n".join(["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]"])
                     + "\n")
    with pytest.raises(ModelSpecError, match=r"103 lines .* expect 30522"):
        load_model("roco-captioner", weights=weights_file, device="cpu", vocab=small)
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ModelSpecError, match="no vocab.txt"):  # a folder without vocab.txt
        load_model("roco-captioner", weights=weights_file, device="cpu", vocab=tmp_path / "empty_dir")


def test_tokenizer_checks_ids_and_duplicates(tmp_path):
    from models.captioning.tokenizer import load_tokenizer

    wrong_ids = tmp_path / "ids.txt"
    wrong_ids.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"]) + "\n")
    with pytest.raises(ModelSpecError, match=r"\[CLS\]/\[SEP\] have ids 2/3"):
        load_tokenizer(wrong_ids)
    folder = tmp_path / "tok"
    folder.mkdir()
    dup = folder / "vocab.txt"
    dup.write_text("\n".join(["[PAD]"] + ["same"] * 100 + ["[CLS]", "[SEP]", "[UNK]"]) + "\n")
    with pytest.raises(ModelSpecError, match="duplicate"):
        load_tokenizer(folder)
    with pytest.raises(ModelSpecError, match="needs its vocabulary"):
        load_tokenizer(None)


@pytest.mark.shared_data
def test_truncated_and_foreign_weights_are_clear_errors(shared_data, vocab, tmp_path):
    bad = shared_data / "negative" / "resnet18_truncated.pth"
    with pytest.raises(WeightsError, match="resnet18_truncated"):
        load_model("roco-captioner", weights=bad, device="cpu", vocab=vocab)
    foreign = tmp_path / "roco_best_model.bin"
    torch.save({"fc.weight": torch.zeros(2, 512), "layer4.0.conv1.weight": torch.zeros(1)}, foreign)
    with pytest.raises(WeightsError, match="ResNetGraphCaptioner"):
        load_model("roco-captioner", weights=foreign, device="cpu", vocab=vocab)


@pytest.mark.shared_data
def test_bad_image_is_a_loupe_error(loupe_model):
    with pytest.raises(LoupeError, match="uint8"):
        loupe_model.caption(np.zeros((8, 8, 3), np.float32))


@pytest.mark.shared_data
def test_loupe_caption_cli_writes_captions_and_reports_bad_files(weights_file, vocab, loupe_model,
                                                                  shared_data, tmp_path):
    import json

    from desktop.cli import main

    good = shared_data / NIH_IMAGE
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    out = tmp_path / "captions.json"
    rc = main(["caption", str(good), str(bad), "--model", "roco-captioner", "--weights", str(weights_file),
               "--vocab", str(vocab), "--device", "cpu", "--max-len", "6", "--out", str(out)])
    data = json.loads(out.read_text())
    assert rc == 0
    from desktop.core.imaging import read_image

    assert data["captions"] == {str(good): loupe_model.caption(read_image(good).display(), max_len=6)}
    assert list(data["errors"]) == [str(bad)] and "broken.png" in data["errors"][str(bad)]


def test_loupe_caption_cli_without_vocab_fails_cleanly(weights_file, tmp_path, capsys, monkeypatch):
    from desktop.cli import main

    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path))
    img = tmp_path / "a.png"
    Image.new("RGB", (32, 32)).save(img)
    rc = main(["caption", str(img), "--model", "roco-captioner", "--weights", str(weights_file),
               "--device", "cpu"])
    assert rc == 2
    assert "bert-base-uncased-vocab.txt not found" in capsys.readouterr().err


@pytest.mark.shared_data
def test_batched_captions_equal_per_image_captions(loupe_model, shared_data):
    """One weight pass per step for the whole batch; every image gets the caption it gets alone."""
    names = ["00000032_037.png", "00000150_002.png", "00000211_016.png", "00000468_017.png"]
    rgbs = [np.asarray(Image.open(shared_data / "nih/images" / n).convert("RGB")) for n in names]
    alone = [loupe_model.generate(r, max_len=16) for r in rgbs]
    assert len({tuple(a) for a in alone}) >= 3  # the images really give different tokens
    assert loupe_model.generate_prepared([loupe_model.prepare(r) for r in rgbs], max_len=16) == alone
    assert loupe_model.caption_batch(rgbs, max_len=16) == [loupe_model.tokenizer.decode(a, skip_special_tokens=True)
                                                           for a in alone]
