"""`CaptionModel`: the ROCOv2 captioner behind Loupe's model interface."""

from __future__ import annotations

import numpy as np
import torch

from models.base import LoupeModel
from models.captioning.architecture import folded_encoder
from models.captioning.decoding import IncrementalDecoder, lay_out_step_weights
from models.captioning.search import DecodeOptions, generate, generate_batch
from models.captioning.tokenizer import CLS_ID, SEP_ID
from models.classification.common import set_memory_format
from models.errors import LoupeError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def card_transform():
    """The card's preprocessing: PIL Resize((224, 224)), ToTensor, ImageNet mean/std."""
    from torchvision import transforms

    return transforms.Compose([
        transforms.Resize((224, 224)),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def to_pil_rgb(image):
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise LoupeError(f"the captioner takes RGB images (H, W, 3); got an array of shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise LoupeError(f"the captioner takes RGB uint8 pixels; got {arr.dtype}")
    return Image.fromarray(np.ascontiguousarray(arr[..., :3]), "RGB")


class CaptionModel(LoupeModel):
    task = "captioning"
    controls = ("beam_size", "max_length", "device")

    def __init__(self, card, module, device, tokenizer):
        super().__init__(card, module, device)
        self.tokenizer = tokenizer
        self._transform = card_transform()
        self._lay_out()

    def _lay_out(self) -> None:
        """What makes this device fast (on CPU: channels-last, a BatchNorm-folded copy of the encoder
        for captioning, transposed step weights; docs/decisions/0082); the incremental decoder is
        rebuilt, as it holds views of the weights."""
        module = self.torch_module
        self._memory_format = set_memory_format(module.encoder, self.device)
        lay_out_step_weights(module, self.device)
        encoder = None
        if self.device.type == "cpu":
            encoder = folded_encoder(module.encoder)
            set_memory_format(encoder, self.device)
        self.decoder = IncrementalDecoder(module, encoder)

    def to(self, device) -> CaptionModel:
        super().to(device)
        self._lay_out()
        return self

    def _batch(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        """(B, 3, 224, 224) on the model's device, in the encoder's layout (channels-last on CPU)."""
        return torch.stack(tensors).to(self.device).contiguous(memory_format=self._memory_format)

    def preprocess(self, rgb) -> torch.Tensor:
        return self._batch([self.prepare(rgb)])

    def generate(self, rgb, max_len: int = 80, beam_size: int = 1, **options) -> list[int]:
        """Token ids from [CLS] up to and including [SEP] (when reached)."""
        opts = DecodeOptions(max_len=max_len, beam_size=beam_size, **options)
        self.torch_module.eval()
        with torch.inference_mode():
            return generate(self.decoder, self.preprocess(rgb), CLS_ID, SEP_ID, opts)

    def caption(self, rgb, max_len: int = 80, beam_size: int = 1, **options) -> str:
        """`options`: length_penalty, no_repeat_ngram_size, repetition_penalty, min_length."""
        tokens = self.generate(rgb, max_len=max_len, beam_size=beam_size, **options)
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    # -- batches (models.batch): preprocessing in the decode threads, several images per decode ---
    def batchable(self) -> bool:
        return True

    def prepare(self, rgb) -> torch.Tensor:
        """RGB -> the (3, 224, 224) CPU tensor `caption` feeds the model; safe in a worker thread."""
        return self._transform(to_pil_rgb(rgb))

    def generate_prepared(self, tensors: list[torch.Tensor], max_len: int = 80, beam_size: int = 1,
                          **options) -> list[list[int]]:
        """`prepare`d tensors -> token ids per image; greedy decodes the whole batch at once."""
        opts = DecodeOptions(max_len=max_len, beam_size=beam_size, **options)
        self.torch_module.eval()
        with torch.inference_mode():
            return generate_batch(self.decoder, self._batch(tensors), CLS_ID, SEP_ID, opts)

    def caption_prepared(self, tensors: list[torch.Tensor], max_len: int = 80, beam_size: int = 1,
                         **options) -> list[str]:
        """One caption per `prepare`d image, the same as `caption` gives each alone."""
        return [self.tokenizer.decode(t, skip_special_tokens=True)
                for t in self.generate_prepared(tensors, max_len=max_len, beam_size=beam_size, **options)]

    def caption_batch(self, images, max_len: int = 80, beam_size: int = 1, **options) -> list[str]:
        """`caption` for several RGB images at once."""
        return self.caption_prepared([self.prepare(rgb) for rgb in images], max_len=max_len,
                                     beam_size=beam_size, **options)

    def forward_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the first caption token given the image (for saliency on the captioner)."""
        bos = torch.full((x.shape[0], 1), CLS_ID, dtype=torch.long, device=x.device)
        return self.torch_module(x, bos)[:, -1]

    def saliency_layer(self):
        return self.torch_module.encoder.encoder.stages[-1]
