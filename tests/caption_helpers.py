"""Test helpers for the captioner: the card's model with seeded, scaled random weights, and the
card's own greedy loop (the oracle: the whole model, encoder included, re-run for every token)."""

from __future__ import annotations

from pathlib import Path

import torch

CLS, SEP = 101, 102


def build_card_model(seed: int = 0, vocab_size: int = 30522):
    """The card's `ResNetGraphCaptioner` with seeded random weights, scaled so that greedy tokens
    vary from position to position (plain random init repeats one token: the random ResNet's
    features are ~30x larger than a trained one's and drown the token embeddings)."""
    from models.captioning.architecture import ResNetGraphCaptioner

    torch.manual_seed(seed)
    m = ResNetGraphCaptioner(vocab_size=vocab_size).eval()
    with torch.no_grad():
        m.pos_encoder.normal_(0.0, 1.0)
        m.embedding.weight.normal_(0.0, 1.0)
        m.vis_proj.weight.div_(30.0)
        m.fc_out.weight.mul_(8.0)
    return m


def save_card_weights(model, folder: Path) -> Path:
    path = Path(folder) / "roco_best_model.bin"
    torch.save(model.state_dict(), path)  # the published format: a plain state_dict
    return path


@torch.no_grad()
def card_greedy(model, image_tensor: torch.Tensor, max_len: int = 80) -> list[int]:
    """The model card's inference loop, as published: whole model per token, argmax of the last."""
    model.eval()
    tokens = [CLS]
    for _ in range(max_len):
        out = model(image_tensor, torch.tensor([tokens], device=image_tensor.device))
        next_id = out[0, -1].argmax().item()
        tokens.append(next_id)
        if next_id == SEP:
            break
    return tokens


def card_image_tensor(path: Path) -> torch.Tensor:
    """The card's preprocessing, written out independently of Loupe's code."""
    from PIL import Image
    from torchvision import transforms

    tf = transforms.Compose([
        transforms.Resize((224, 224)),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    return tf(Image.open(path).convert("RGB")).unsqueeze(0)
