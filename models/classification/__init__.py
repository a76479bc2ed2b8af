"""Image classifiers: CheXNet, Qing's CNN-Transformer, the OASIS ResNet-18 / ViT-B/16 and their
temporal head. Each module has a `load(card, weights, device, **options)` registered in
`models.registry.ARCHITECTURES`."""
