"""`loupe eval`: evaluate predictions against ground truth and print the metrics as JSON.

    loupe eval --gt GT.json --pred PRED.json [--html report.html] [--cm-threshold 0.3]
    loupe eval --gt labels.json --pred probs.json --task classification [--threshold 0.5]
    loupe eval --gt labels.json --pred logits.json --task classification --protocol authors
    loupe eval --captions ...            (delegates to desktop.commands.eval_captions)

Detection: GT is a COCO dataset; PRED a COCO results list or COCO dataset. Classification: GT maps
image file names to class names (or is a list of {"file", "label"}); PRED maps file names to
{class name: probability} (what `loupe classify --out` writes). The mode follows from the GT file
when --task is not given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path, PurePath


def add_arguments(parser) -> None:
    parser.add_argument("--gt", help="ground truth: COCO JSON (detection) or labels JSON (classification)")
    parser.add_argument("--pred", help="predictions: COCO results JSON or {file: {class: prob}}")
    parser.add_argument("--task", choices=("auto", "detection", "classification"), default="auto")
    parser.add_argument("--html", help="also write a one-file HTML report with the plots")
    parser.add_argument("--out", help="write the metrics JSON here instead of printing it")
    parser.add_argument("--cm-threshold", type=float, default=0.3,
                        help="score above which a box counts (confusion matrix, sensitivity/specificity)")
    parser.add_argument("--negative-class", action="append", default=None, metavar="NAME",
                        help="detection: class whose ground-truth rows the EfficientDet authors' protocol counts "
                             "as truly negative (their label 0; default Atelectasis; repeat for more)")
    parser.add_argument("--table-threshold", type=float, default=0.3,
                        help="detection: score of the per-class table and of the IoU > 0.75 share (default 0.3)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="classification: probability of the positive class that calls it positive")
    parser.add_argument("--positive", help="classification: name of the positive class (default: the second)")
    parser.add_argument("--protocol", choices=("loupe", "authors"), default="loupe",
                        help="classification: 'authors' reads raw logits (loupe classify --logits) and adds "
                             "TemporalGradCam's AUC over the last logit")
    parser.add_argument("--no-curves", action="store_true", help="leave PR/ROC curve points out of the JSON")
    parser.add_argument("--captions", action="store_true",
                        help="evaluate captions (BLEU, ...); see the caption options below")
    try:
        from desktop.commands import eval_captions
    except ImportError:
        return
    group = parser.add_argument_group("captions")
    eval_captions.add_caption_arguments(group)


def _key(name: str) -> str:
    return PurePath(str(name).replace("\\", "/")).name


def _classification_inputs(gt, pred, gt_path, pred_path):
    from models.metrics.coco_io import MetricsInputError

    if isinstance(gt, list):
        gt = {d.get("file") or d.get("file_name"): d.get("label") for d in gt}
    if not isinstance(gt, dict) or not isinstance(pred, dict):
        raise MetricsInputError(f"{gt_path}, {pred_path}: expected {{file: label}} and {{file: {{class: prob}}}}")
    pred = {_key(k): v for k, v in pred.items()}
    names: list[str] = []
    for v in pred.values():
        for n in v:
            if n not in names:
                names.append(n)
    for v in gt.values():
        if v not in names:
            names.append(str(v))
    y, probs, missing = [], [], []
    for f, label in gt.items():
        p = pred.get(_key(f))
        if p is None:
            missing.append(f)
            continue
        y.append(names.index(str(label)))
        probs.append([float(p.get(n, 0.0)) for n in names])
    if missing:
        raise MetricsInputError(f"{pred_path}: no prediction for {len(missing)} image(s), e.g. {missing[0]}")
    return y, probs, names


def run(args) -> int:
    if args.captions:
        from desktop.commands import eval_captions

        return int(eval_captions.run_captions(args) or 0)
    from models.errors import LoupeError
    from models.metrics.coco_io import read_json

    if not args.gt or not args.pred:
        raise LoupeError("--gt and --pred are both required")
    gt = read_json(args.gt, "ground-truth")
    task = args.task
    if task == "auto":
        task = "detection" if isinstance(gt, dict) and "annotations" in gt else "classification"
    if task == "detection":
        from models.metrics.detection import evaluate_detection, load_coco_pair

        gt_d, results = load_coco_pair(args.gt, args.pred)
        metrics = evaluate_detection(gt_d, results, cm_threshold=args.cm_threshold,
                                     negative_classes=tuple(args.negative_class or ("Atelectasis",)),
                                     table_threshold=args.table_threshold)
        curves = "pr_curves"
    else:
        from models.metrics.classification import evaluate_classification

        y, probs, names = _classification_inputs(gt, read_json(args.pred, "predictions"), args.gt, args.pred)
        positive = names.index(args.positive) if args.positive in names else min(1, len(names) - 1)
        if args.positive and args.positive not in names:
            raise LoupeError(f"--positive {args.positive!r} is not one of the classes {names}")
        if getattr(args, "protocol", "loupe") == "authors":
            from models.metrics.classification import evaluate_logits, looks_like_probabilities

            if looks_like_probabilities(probs):
                raise LoupeError(f"{args.pred} holds probabilities; the authors' AUC ranks by raw logits: "
                                 "write them with loupe classify --logits")
            metrics = evaluate_logits(y, probs, names, threshold=args.threshold, positive=positive)
        else:
            metrics = evaluate_classification(y, probs, names, threshold=args.threshold, positive=positive)
        curves = "roc"
    if args.html:
        from models.metrics.report import write_report

        write_report(args.html, metrics, title=f"Loupe evaluation: {Path(args.pred).name}")
    shown = {k: v for k, v in metrics.items() if not (args.no_curves and k == curves)}
    text = json.dumps(shown, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0
