"""RF-DETR Nano fine-tune through rfdetr's own training (random init, 32 px: Nano's patch 16 x 2
windows, the smallest size rfdetr accepts), on a copy of a few ../shared/data/coco_rbc images.

- default run: rfdetr's own Trainer in process with Loupe's callback: progress events, and a stop
  asked during step 1 ends the run after it (about 40 s here);
- slow: a real detector child under the supervisor, cancelled after its first step (the stop file /
  SIGINT path, the "cancelled" result, nothing left behind); a full 1-epoch run (8 train / 4 valid) whose output loads back through `load_model` and
  detects on a real image; the loss falls over steps on one image; a child that crashes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from training_helpers import rbc_subset, read_events

from desktop.cli import main

pytestmark = [pytest.mark.shared_data]
SMALL = ["--resolution", "32", "--device", "cpu", "--progress", "none", "--grad-accum", "1"]


def _train(data, out, *extra):
    return main(["train", "detector", "--data", str(data), "--model", "rfdetr-nano", "--out", str(out),
                 *SMALL, *extra])


def _no_big_files(out):
    return not list(out.rglob("*.pth")) and not list(out.rglob("*.ckpt"))


def test_real_trainer_reports_a_step_and_stops_after_it(shared_data, tmp_path):
    """In process, rfdetr's own Trainer with Loupe's callback: the start and step events carry the
    protocol's fields, and a stop asked during step 1 ends the run right after it, leaving no files."""
    from models.training.detector import train_detector
    from models.training.hparams import detector_defaults
    from models.training.progress import Progress, StopFlag, TrainingCancelled

    data = rbc_subset(tmp_path / "rbc", 1, shared_data, 1)
    out = tmp_path / "out"
    out.mkdir()
    stream = io.StringIO()
    progress, stop = Progress("jsonl", stream), StopFlag()
    emit = progress.emit

    def emit_and_stop(event, **fields):
        if event == "step":
            stop.request()  # as the stop file or SIGINT would
        return emit(event, **fields)

    progress.emit = emit_and_stop
    hp = {**detector_defaults(), "epochs": 2, "batch_size": 1, "grad_accum_steps": 1, "resolution": 32,
          "augment": "none", "warmup_epochs": 0}
    with pytest.raises(TrainingCancelled):
        train_detector(data, out, hp, progress, stop, architecture="rfdetr-nano", device="cpu")
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["start", "step"]
    start, step = events
    assert start["task"] == "detection" and start["epochs"] == 2 and start["steps_per_epoch"] >= 1
    assert (step["epoch"], step["step"], step["steps"]) == (1, 1, start["steps_per_epoch"])
    assert np.isfinite(step["loss"]) and step["loss"] > 0 and step["lr"] > 0
    assert not (out / "weights.safetensors").exists() and _no_big_files(out)


@pytest.mark.slow
@pytest.mark.gui
def test_supervisor_cancels_a_real_detector_run(qtbot, shared_data, tmp_path):
    from desktop.jobs.training import TrainingSupervisor, training_command

    data = rbc_subset(tmp_path / "rbc", 2, shared_data, 2)
    out = tmp_path / "out"
    sup = TrainingSupervisor(grace_s=300.0)  # a CPU step takes minutes on a loaded machine
    got = {"steps": [], "cancelled": None, "failed": None, "finished": None}
    sup.progress.connect(lambda ev: (got["steps"].append(ev), sup.cancel()))
    sup.cancelled.connect(lambda o: got.__setitem__("cancelled", o))
    sup.failed.connect(lambda m, t: got.__setitem__("failed", (m, t)))
    sup.finished.connect(lambda ev: got.__setitem__("finished", ev))
    cmd = training_command("detector", str(data), "rfdetr-nano", str(out),
                           {"epochs": 3, "batch_size": 1, "grad_accum": 1, "resolution": 32, "device": "cpu",
                            "augment": "none"}, stop_file=str(sup.stop_file))
    sup.start(cmd)
    qtbot.waitUntil(lambda: any(got[k] is not None for k in ("cancelled", "failed", "finished")), timeout=400000)
    sup.wait()
    assert got["failed"] is None and got["finished"] is None, got["failed"]
    assert got["cancelled"] == str(out), "\n".join(sup._tail)
    assert sup.proc.returncode == 3  # stopped politely by the callback, not killed
    events = read_events(out / "metrics.jsonl")
    events = [e for e in events if e["event"] != "log"]  # rfdetr/albumentations may log first
    assert events[0]["event"] == "start" and events[-1]["event"] == "cancelled"
    steps = [e for e in events if e["event"] == "step"]
    assert 1 <= len(steps) <= 2 and steps[0]["epoch"] == 1 and steps[0]["loss"] > 0
    assert not (out / "weights.safetensors").exists() and _no_big_files(out)
    assert not sup.stop_file.exists()


@pytest.fixture(scope="module")
def fine_tuned(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("nano")
    data = rbc_subset(root / "rbc", 8, shared_data, 4)
    out = root / "out"
    rc = _train(data, out, "--epochs", "1", "--batch-size", "2", "--lr", "5e-4", "--warmup-epochs", "0")
    return rc, data, out


def _real_image(data):
    return np.asarray(Image.open(sorted((data / "test").glob("*.jpg"))[0]).convert("RGB"))


@pytest.mark.slow
def test_nano_fine_tune_end_to_end(fine_tuned):
    from safetensors.torch import load_file

    from models.training.outputs import dataset_hash

    rc, data, out = fine_tuned
    assert rc == 0
    assert {p.name for p in out.iterdir()} >= {"weights.safetensors", "model.json", "metrics.jsonl",
                                                "report.html", "predictions.json"}
    assert _no_big_files(out)
    card = json.loads((out / "model.json").read_text())
    assert card["class_names"] == ["rbc", "wbc"]  # Roboflow's parent category takes no slot (rfdetr's filter)
    assert card["extra"]["split"] == {"train": 8, "valid": 4, "test": 4}
    assert card["extra"]["dataset_hash"] == dataset_hash(data)
    assert card["extra"]["parent_model"] == "rfdetr-nano"
    assert card["preprocessing"]["resolution"] == 32
    events = read_events(out / "metrics.jsonl")
    assert [e["event"] for e in events if e["event"] in ("start", "epoch", "done")] == ["start", "epoch", "done"]
    # the weights, read by safetensors, load strictly into rfdetr's own Nano at the card's resolution
    # and class count, and its predict runs on a real image
    import rfdetr

    rf = rfdetr.RFDETRNano(pretrain_weights=None, num_classes=len(card["class_names"]),
                           resolution=card["preprocessing"]["resolution"], device="cpu")
    sd = load_file(out / "weights.safetensors")
    rf.model.model.load_state_dict(sd, strict=True)
    det = rf.predict(_real_image(data), threshold=0.0)
    assert len(det.confidence) > 0 and int(det.class_id.max()) <= len(card["class_names"])


@pytest.mark.slow
def test_fine_tuned_card_loads_through_load_model(fine_tuned):
    from models import load_model

    _, data, out = fine_tuned
    m = load_model(str(out / "model.json"), device="cpu")
    assert m.class_names == ["rbc", "wbc"] and m.resolution == 32
    rgb = _real_image(data)
    dets = m.detect(rgb, threshold=0.0)
    assert len(dets.scores) > 0 and set(dets.class_names) <= {"rbc", "wbc", "__background__"}  # slot 0 at threshold 0
    ref = m.rfdetr.predict(rgb, threshold=0.0)  # the same weights through rfdetr's own predict
    np.testing.assert_allclose(np.sort(ref.confidence), np.sort(dets.scores), atol=1e-5)


@pytest.mark.slow
def test_loss_falls_on_one_image(shared_data, tmp_path):
    """One training image, batch 1, no augmentation: rfdetr's small-set sampler repeats it for 5 steps
    per epoch, so the step losses are on the same batch."""
    data = rbc_subset(tmp_path / "rbc", 1, shared_data, 2)
    out = tmp_path / "out"
    rc = _train(data, out, "--epochs", "1", "--batch-size", "1", "--lr", "1e-3", "--warmup-epochs", "0",
                "--augment", "none")
    assert rc == 0
    losses = [e["loss"] for e in read_events(out / "metrics.jsonl") if e["event"] == "step"]
    assert len(losses) >= 3 and losses[-1] < losses[0], losses


@pytest.mark.slow
def test_crashing_detector_child_is_reported(qtbot, shared_data, tmp_path):
    """A child that crashes inside rfdetr's loop (an unreadable training image) is reported with its
    log; no model is written."""
    from desktop.jobs.training import TrainingSupervisor, training_command

    data = rbc_subset(tmp_path / "rbc", 2, shared_data, 2)
    for p in (data / "train").glob("*.jpg"):
        p.write_bytes(b"not a jpeg")
    sup = TrainingSupervisor()
    got = {}
    sup.failed.connect(lambda m, t: got.update(msg=m, tail=t))
    sup.finished.connect(lambda ev: got.update(done=ev))
    sup.start(training_command("detector", str(data), "rfdetr-nano", str(tmp_path / "o"),
                               {"epochs": 1, "batch_size": 1, "resolution": 32, "device": "cpu"}))
    qtbot.waitUntil(lambda: bool(got), timeout=400000)
    sup.wait()
    assert "done" not in got and "training failed" in got["msg"] and "Traceback" in got["tail"]
    assert not (tmp_path / "o" / "weights.safetensors").exists()


def test_training_augmentation_is_the_heartformer_cards(tmp_path):
    """The card lists horizontal flip, brightness/contrast, colour jitter and gaussian noise; Loupe
    added vertical flips and left out jitter and noise. The config reaches rfdetr as `aug_config`
    and rfdetr's own Albumentations hook builds every entry of it."""
    pytest.importorskip("albumentations")
    from rfdetr.datasets.transforms import AlbumentationsWrapper

    from models.training.detector import rfdetr_train_kwargs
    from models.training.hparams import DETECTOR

    hp = dict(DETECTOR)
    assert hp["augment"] == "flips+colour"
    aug = rfdetr_train_kwargs(tmp_path, tmp_path / "work", hp)["aug_config"]
    assert list(aug) == ["HorizontalFlip", "RandomBrightnessContrast", "ColorJitter", "GaussNoise"]
    assert "VerticalFlip" not in aug
    built = AlbumentationsWrapper.from_config(aug, strict=True)
    inner = [w.transform.transforms[0] for w in built]  # each wrapper holds Compose([transform])
    assert [type(t).__name__ for t in inner] == list(aug)
    assert all(0 < t.p <= 1 for t in inner)
    assert rfdetr_train_kwargs(tmp_path, tmp_path / "work", {**hp, "augment": "none"})["aug_config"] == {}
