"""Tiny seeded random segment-anything folders in the Hugging Face layout, for tests, the benchmark
and the self-test: the real architecture code at small sizes, saved with `save_pretrained`.

`image_size` sets the processor's (and the model's) input size; 1024 is the published models' size.
The processor configs follow what each published folder declares: SAM resizes the longest side to
`image_size`, pads to a square and normalises with ImageNet's mean/std; MedSAM (`medsam`) the same
resize and pad, but normalises with mean 0 and std 1 after rescaling to [0, 1] (as MedSAM's
authors preprocess: intensities to [0, 1], no ImageNet statistics); SAM 2.1 resizes to a square.
"""

from __future__ import annotations

from pathlib import Path

# processor settings that differ between the presets (the rest are transformers' defaults)
PROCESSOR_KINDS = {
    "sam": {},
    "medsam": {"image_mean": [0.0, 0.0, 0.0], "image_std": [1.0, 1.0, 1.0]},
}


def sam_config(image_size: int = 256, hidden: int = 32, layers: int = 2):
    from transformers import SamConfig, SamMaskDecoderConfig, SamPromptEncoderConfig, SamVisionConfig

    vision = SamVisionConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2, mlp_dim=2 * hidden,
                             output_channels=hidden, image_size=image_size, patch_size=16,
                             global_attn_indexes=[layers - 1], window_size=4, num_pos_feats=hidden // 2)
    prompt = SamPromptEncoderConfig(hidden_size=hidden, image_size=image_size, patch_size=16, mask_input_channels=4)
    decoder = SamMaskDecoderConfig(hidden_size=hidden, mlp_dim=2 * hidden, num_hidden_layers=2,
                                   num_attention_heads=2, iou_head_hidden_dim=hidden)
    return SamConfig(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)


def sam2_config(image_size: int = 256, hidden: int = 32):
    from transformers import Sam2Config

    dims = [8, 16, 32, 64]
    stride = 4  # the patch embedding's stride; each later stage halves the map
    sizes = [[image_size // (stride * 2 ** i)] * 2 for i in range(3)]
    vision = {
        "backbone_config": {"model_type": "sam2_hiera_det_model", "hidden_size": dims[0], "num_attention_heads": 1, "image_size": [image_size, image_size],
                            "blocks_per_stage": [1, 1, 2, 1], "embed_dim_per_stage": dims,
                            "num_attention_heads_per_stage": [1, 1, 2, 2], "window_size_per_stage": [4, 4, 4, 4],
                            "global_attention_blocks": [3], "window_positional_embedding_background_size": [4, 4]},
        "backbone_channel_list": dims[::-1], "backbone_feature_sizes": sizes, "fpn_hidden_size": hidden,
    }
    prompt = {"hidden_size": hidden, "image_size": image_size, "patch_size": 16, "mask_input_channels": 4}
    decoder = {"hidden_size": hidden, "mlp_dim": 2 * hidden, "num_attention_heads": 2, "iou_head_hidden_dim": hidden}
    return Sam2Config(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)


def write_tiny_folder(folder, family: str = "sam", processor: str = "sam", image_size: int = 256, seed: int = 0,
                      **sizes) -> Path:
    """A folder (config.json, model.safetensors, preprocessor_config.json) of a seeded random model."""
    import torch
    import transformers

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if family == "sam2":
        model = transformers.Sam2Model(sam2_config(image_size, **sizes)).eval()
        image_proc = transformers.Sam2ImageProcessor(size={"height": image_size, "width": image_size})
        proc = transformers.Sam2Processor(image_processor=image_proc)
    else:
        model = transformers.SamModel(sam_config(image_size, **sizes)).eval()
        image_proc = transformers.SamImageProcessor(size={"longest_edge": image_size},
                                                    pad_size={"height": image_size, "width": image_size},
                                                    **PROCESSOR_KINDS[processor])
        proc = transformers.SamProcessor(image_processor=image_proc)
    model.save_pretrained(folder)
    # the published folders hold the image processor's preprocessor_config.json (no processor_config.json)
    proc.image_processor.save_pretrained(folder)
    return folder


def write_tiny_for_card(card, folder, image_size: int = 256) -> Path:
    """A tiny folder of the architecture (and processor kind) a preset card names."""
    kind = card.extra.get("processor_kind", "sam")
    return write_tiny_folder(folder, card.architecture, kind, image_size=image_size)


# the published models' sizes (their config.json), for the benchmark: random weights, real shapes
PUBLISHED = {
    "sam-vit-base": ("sam", "sam", {}),  # SamConfig's defaults are SAM ViT-B
    "medsam": ("sam", "medsam", {}),  # MedSAM is SAM ViT-B fine-tuned
    "slimsam": ("sam", "sam", {"vision_config": {"hidden_size": 168, "mlp_dim": 696}}),  # SlimSAM-77's config.json
    "sam2.1-tiny": ("sam2", "sam", {}),  # Sam2Config's defaults are Hiera-Tiny
}


def write_published_size_folder(folder, preset: str, seed: int = 0) -> Path:
    """A folder of `preset` at its published size (1024 input) with seeded random weights."""
    import torch
    import transformers

    family, kind, overrides = PUBLISHED[preset]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if family == "sam2":
        model = transformers.Sam2Model(transformers.Sam2Config(**overrides)).eval()
        proc = transformers.Sam2ImageProcessor(size={"height": 1024, "width": 1024})
    else:
        model = transformers.SamModel(transformers.SamConfig(**overrides)).eval()
        proc = transformers.SamImageProcessor(**PROCESSOR_KINDS[kind])
    model.save_pretrained(folder)
    proc.save_pretrained(folder)
    return folder
