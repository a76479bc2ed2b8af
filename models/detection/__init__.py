"""Detectors: RF-DETR (Nano/Small/Medium/Large, Heartformer, rfdetr training checkpoints) and the
chest X-ray EfficientDet (optional `effdet` extra). Each module has a `load(card, weights, device,
**options)` registered in `models.registry.ARCHITECTURES`."""
