"""Segmentation models: segment-anything (SAM, MedSAM, SlimSAM, SAM 2.1) prompted by points and boxes,
and the tight box around a mask."""

from models.segmentation.boxes import box_from_mask

__all__ = ["box_from_mask"]
