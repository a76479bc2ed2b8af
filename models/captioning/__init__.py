"""Radiology captioning: the ROCOv2 `ResNetGraphCaptioner` (MODELS.md section 4).

    m = load_model("roco-captioner", weights="roco_best_model.bin", vocab="vocab.txt")
    m.caption(rgb, max_len=80, beam_size=1)

Only `load` lives here so that importing the package stays cheap (no torch).
"""

from __future__ import annotations

from pathlib import Path

from models.errors import ModelSpecError, WeightsError

EXPECTS = ("the card's ResNetGraphCaptioner (encoder.* ResNet-50, vis_proj, graph_layer.msg_linear, "
           "embedding, pos_encoder, decoder.layers.0..3, fc_out)")


def resolve_vocab(card, weights, vocab) -> Path:
    """The vocabulary: `vocab` as given, else the card's `extra["vocab"]`; a relative name is looked
    for beside the weights, beside the card, then in the user's models folder."""
    from models.resources import user_models_dir

    name = vocab or card.extra.get("vocab")
    if not name:
        raise ModelSpecError(f"{card.name}: the captioner needs its vocabulary; pass --vocab "
                             "(bert-base-uncased vocab.txt or a tokenizer folder)")
    path = Path(name).expanduser()
    if path.is_absolute() or path.exists():
        return path
    places = [Path(weights).parent] if weights is not None else []
    if card.extra.get("card_dir"):
        places.append(Path(card.extra["card_dir"]))
    places.append(user_models_dir())
    for place in places:
        if (place / path).exists():
            return place / path
    where = ", ".join(str(p) for p in places)
    raise ModelSpecError(f"vocabulary {path} not found (looked in {where}); pass --vocab PATH")


def load(card, weights, device="auto", **options):
    """Build the card's `ResNetGraphCaptioner`, load `weights` strictly, attach the tokenizer.

    options: `vocab` (bert-base-uncased vocab.txt or a tokenizer folder; default the card's
    `extra["vocab"]`).
    """
    import torch

    from models.captioning.architecture import ResNetGraphCaptioner
    from models.captioning.captioner import CaptionModel
    from models.captioning.tokenizer import load_tokenizer
    from models.devices import resolve_device
    from models.weights import find_state_dict, load_into, read_weights

    if weights is None:
        raise WeightsError(f"{card.name}: no weights file given (roco_best_model.bin)")
    sd = find_state_dict(read_weights(weights), weights)
    emb = sd.get("embedding.weight")
    if not isinstance(emb, torch.Tensor) or emb.ndim != 2 or "fc_out.weight" not in sd:
        from models.weights import architecture_mismatch

        raise architecture_mismatch(weights, sd, card.name, EXPECTS, ["embedding.weight", "fc_out.weight"],
                                    [], [])
    tokenizer = load_tokenizer(resolve_vocab(card, weights, options.get("vocab")),
                               expected_size=int(emb.shape[0]))
    module = ResNetGraphCaptioner(vocab_size=int(emb.shape[0]))
    load_into(module, sd, weights, card.name, EXPECTS)
    dev = resolve_device(device)
    module.to(dev).eval()
    return CaptionModel(card, module, dev, tokenizer)
