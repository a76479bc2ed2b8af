"""SAM's mask decoder rearranged for one prompt (models/segmentation/fastdecode.py) gives what
transformers' own SamModel forward gives for the same embedding and prompt: the low-resolution mask
logits and the predicted IoUs within float rounding, and the same mask box after the processor's
post_process_masks, at the published decoder sizes (SAM ViT-B, SAM 2.1 Hiera-Tiny) and through Loupe's
model on a radiograph."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from models import load_model
from models.segmentation import box_from_mask, fastdecode
from models.segmentation.tiny import write_tiny_folder


@pytest.fixture(scope="module")
def published_decoder():
    """A SamModel with SAM ViT-B's published prompt encoder and mask decoder (256 wide, 64 x 64 image
    tokens, 8 heads, 2 layers) and a small vision encoder (the decoder never runs it here)."""
    torch.manual_seed(11)
    vision = transformers.SamVisionConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, mlp_dim=64,
                                          global_attn_indexes=[0], window_size=4)
    config = transformers.SamConfig(vision_config=vision)
    assert config.mask_decoder_config.hidden_size == 256 and config.prompt_encoder_config.image_embedding_size == 64
    return transformers.SamModel(config).eval()


PROMPTS = [
    ({"input_points": [[[[400.0, 450.0]]]], "input_labels": [[[1]]]}, True),  # one click: three masks
    ({"input_points": [[[[400.0, 450.0], [700.0, 200.0]]]], "input_labels": [[[1, 0]]]}, False),
    ({"input_boxes": [[[300.0, 350.0, 700.0, 800.0]]]}, False),
    ({"input_points": [[[[500.0, 500.0]]]], "input_labels": [[[1]]], "input_boxes": [[[300.0, 350.0, 700.0, 800.0]]]},
     False),
]


@pytest.fixture(scope="module")
def published_sam2():
    """Sam2Model at its defaults: SAM 2.1 Hiera-Tiny's published sizes (decoder 256 wide, 64 x 64 tokens)."""
    torch.manual_seed(12)
    return transformers.Sam2Model(transformers.Sam2Config()).eval()


def _features(family):
    g = torch.Generator().manual_seed(4)
    if family == "sam":
        return torch.randn(1, 256, 64, 64, generator=g) * 0.5
    # SAM 2: [conv_s0(level 0) (1, 32, 256, 256), conv_s1(level 1) (1, 64, 128, 128), (1, 256, 64, 64)]
    return [torch.randn(1, c, s, s, generator=g) * 0.5 for c, s in ((32, 256), (64, 128), (256, 64))]


@pytest.mark.parametrize("family", ["sam", "sam2"])
@pytest.mark.parametrize("prompt, multimask", PROMPTS)
def test_the_fast_decoder_equals_transformers_at_the_published_size(published_decoder, published_sam2, family,
                                                                     prompt, multimask):
    m = published_decoder if family == "sam" else published_sam2
    emb = _features(family)
    tensors = {k: torch.tensor(v) for k, v in prompt.items()}
    with torch.inference_mode():
        ref = m(image_embeddings=emb, multimask_output=multimask, **tensors)
        sparse, _ = m.prompt_encoder(input_points=tensors.get("input_points"), input_labels=tensors.get("input_labels"),
                                     input_boxes=tensors.get("input_boxes"), input_masks=None)
    masks, iou = fastdecode.decode(m, fastdecode.prepare(m, emb), sparse, multimask)
    assert masks.shape == ref.pred_masks.shape == (1, 1, 3 if multimask else 1, 256, 256)
    scale = float(ref.pred_masks.abs().max())
    torch.testing.assert_close(masks, ref.pred_masks, rtol=0, atol=1e-4 * scale)
    torch.testing.assert_close(iou, ref.iou_scores, rtol=1e-4, atol=1e-6)
    best, best_iou = fastdecode.decode(m, fastdecode.prepare(m, emb), sparse, multimask, best_only=True)
    k = int(torch.argmax(ref.iou_scores[0, 0]))
    torch.testing.assert_close(best[0, 0, 0], ref.pred_masks[0, 0, k], rtol=0, atol=1e-4 * scale)
    # the masks themselves (logits > 0) agree except where a logit is within rounding of 0
    decided = ref.pred_masks.abs() > 1e-4 * scale
    assert torch.equal((masks > 0)[decided], (ref.pred_masks > 0)[decided])


def test_the_image_wide_positional_embedding_is_computed_once_per_model(published_decoder):
    m = published_decoder
    first = fastdecode.positional(m)
    assert fastdecode.positional(m) is first
    with torch.inference_mode():
        ref = m.get_image_wide_positional_embeddings()[0].flatten(1).t()
    torch.testing.assert_close(first, ref)


@pytest.fixture(scope="module", params=["sam", "sam2"])
def loupe_sam(tmp_path_factory, request):
    family = request.param
    folder = write_tiny_folder(tmp_path_factory.mktemp("fd") / family, family, "sam", seed=5)
    return load_model("sam-vit-base" if family == "sam" else "sam2.1-tiny", weights=folder, device="cpu")


def test_loupes_prompt_box_equals_the_plain_transformers_pipeline_on_a_radiograph(loupe_sam, shared_data):
    from PIL import Image

    gray = np.asarray(Image.open(shared_data / "nih" / "images" / "00000032_037.png").convert("L"))[60:880, 90:700]
    rgb = np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=2))
    m = loupe_sam
    emb = m.embed(rgb)
    for prompt in ({"points": [(300, 400, 1)]}, {"points": [(300, 400, 1), (450, 150, 0)]},
                   {"box": (100, 150, 500, 700)}):
        points = [tuple(p) for p in prompt.get("points", [])]
        tensors = m.prompt_inputs(emb, points, prompt.get("box"))
        multimask = "box" not in prompt and len(points) == 1
        fast_masks, fast_iou, _ = m.decode(emb, points=prompt.get("points"), box=prompt.get("box"))
        plain_masks, plain_iou, _ = m.decode_plain(emb, tensors, multimask)  # SamModel's own forward
        torch.testing.assert_close(fast_masks, plain_masks, rtol=0, atol=1e-4 * float(plain_masks.abs().max()))
        torch.testing.assert_close(fast_iou, plain_iou, rtol=1e-4, atol=1e-6)
        # the box of transformers' post-processed mask, the mask `segment` would have returned before
        full = m.post_process(plain_masks, emb)[0, int(torch.argmax(plain_iou)) if multimask else 0].numpy()
        assert m.prompt(emb, **prompt).box == box_from_mask(full), prompt
