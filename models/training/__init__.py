"""Fine-tuning (no Qt): RF-DETR detectors through rfdetr's own Lightning training, classifiers through
Loupe's own loop. Runs in a child process (`loupe train ... --progress jsonl`) that reports JSON lines
on stdout (see `models.training.progress`) and stops after the current step when asked.

    from models.training.detector import train_detector
    from models.training.classifier import train_classifier
"""
