"""The model panel runs the temporal model on each patient's real sequence (patient and date from
DICOM PatientID/StudyDate, or the file-name pattern), in the real window, and gives what
`loupe classify` and the engine give on the full sequence (not a sequence of one)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("PySide6")

import torch  # noqa: E402
import torchvision  # noqa: E402
from e2e_helpers import load_preset, open_window, wait_job  # noqa: E402
from imaging_helpers import dicom_dataset  # noqa: E402

from desktop.cli import main  # noqa: E402
from desktop.core.imaging.model_input import model_input  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.shared_data]
PATTERN = r"(?P<patient>P\d+)_day(?P<date>\d+)"


def write_dicom(path, patient, date, seed):
    ds = dicom_dataset()
    ds.PatientID, ds.StudyDate, ds.Modality = patient, date, "MR"
    ds.Rows, ds.Columns = 64, 56
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = 2048.0, 4096.0
    ds.PixelData = np.random.default_rng(seed).integers(0, 4096, (64, 56)).astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def scene(shared_data, tmp_path):
    from models.classification.temporal import TemporalHead

    models_dir = tmp_path / "models"
    models_dir.mkdir()
    torch.manual_seed(21)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), models_dir / "resnet18-f37072fd.pth")
    head = TemporalHead(512).eval()
    with torch.no_grad():
        head.bn.running_mean.uniform_(-0.2, 0.2)
        head.projection.weight.mul_(20)  # logits far enough apart that the sequence shows
    torch.save(head.state_dict(), models_dir / "oasis_temporal_head.pt")
    folder = tmp_path / "visits"
    folder.mkdir()
    # patient D1 visited three times; the file names' order is not the dates' order
    for name, patient, date, seed in (("d1_a.dcm", "D1", "20200301", 1), ("d1_b.dcm", "D1", "20190101", 2),
                                      ("d1_c.dcm", "D1", "20200101", 3), ("d2.dcm", "D2", "20200101", 4)):
        write_dicom(folder / name, patient, date, seed)
    for src, name in zip(sorted((shared_data / "nih/images").glob("000*_0*.png"))[:3],
                         ("P7_day2.png", "P7_day10.png", "P9_day1.png")):
        shutil.copy(src, folder / name)
    return models_dir, folder


def cli(models_dir, folder, tmp_path, *extra):
    out = tmp_path / f"cli{len(extra)}.json"
    rc = main(["classify", str(folder), "--model", "oasis-temporal", "--weights", str(models_dir / "oasis_temporal_head.pt"),
               "--backbone-weights", str(models_dir / "resnet18-f37072fd.pth"), "--device", "cpu", "--out", str(out),
               *extra])
    assert rc == 0
    return json.loads(out.read_text())


def test_panel_runs_each_patients_real_sequence_as_the_cli(qtbot, scene, tmp_path):
    models_dir, folder = scene
    win = open_window(qtbot, tmp_path, folder, models_dir, 7)
    panel = win.model_panel
    model = load_preset(qtbot, win, "oasis-temporal")
    assert hasattr(model, "classify_sequence") and panel.pattern.isVisibleTo(panel)
    panel.skip_done.setChecked(False)
    wait_job(qtbot, panel.run("all"))
    got = {p: panel.runs.results[(model.name, p)].value for p in win.image_paths()
           if (model.name, p) in panel.runs.results}
    want = cli(models_dir, folder, tmp_path)
    assert set(got) == set(want) == {str(p) for p in folder.iterdir() if p.is_file()}
    for path, probs in want.items():
        assert got[path] == pytest.approx(probs, abs=1e-6), path
    # the engine on D1's full sequence, in StudyDate order: b (2019), c (Jan 2020), a (Mar 2020)
    seq = [model_input(folder / n) for n in ("d1_b.dcm", "d1_c.dcm", "d1_a.dcm")]
    full = model.classify_sequence(seq)
    assert got[str(folder / "d1_a.dcm")] == pytest.approx(full, abs=1e-6)
    alone = model.classify(seq[-1])
    assert abs(alone["disease"] - full["disease"]) > 1e-3  # a sequence of one would differ

    # patients and dates from the file names, with the pattern the CLI takes
    panel.pattern.setText(PATTERN)
    panel.runs.results.clear()
    wait_job(qtbot, panel.run("all"))
    want = cli(models_dir, folder, tmp_path, "--pattern", PATTERN)
    assert set(want) == {str(folder / n) for n in ("P7_day2.png", "P7_day10.png", "P9_day1.png")}
    for path, probs in want.items():
        assert panel.runs.results[(model.name, path)].value == pytest.approx(probs, abs=1e-6), path
    day2, day10 = (model_input(folder / n) for n in ("P7_day2.png", "P7_day10.png"))
    assert panel.runs.results[(model.name, str(folder / "P7_day10.png"))].value == pytest.approx(
        model.classify_sequence([day2, day10]), abs=1e-6)
    failed = dict(panel.runs.failed)
    assert "does not match the pattern" in failed[str(folder / "d2.dcm")]  # listed, not a crash
    win.jobs.shutdown()
