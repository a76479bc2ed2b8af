"""Folder presets in Get weights (the segment-anything models): an installed Hugging Face folder is
present (it used to show as missing: the check was `is_file()`), a half-copied one says what it
lacks, the sources list each file of the folder on its Hugging Face repository, and a folder
downloads file by file from a local server (never the network), is loaded once, then put in place."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from desktop.core.downloads import download_preset, install_folder, weights_source, weights_sources
from models.errors import WeightsError
from tests.download_server import serve

REPOS = {"sam-vit-base": "facebook/sam-vit-base", "medsam": "wanglab/medsam-vit-base",
         "slimsam": "Zigeng/SlimSAM-uniform-77", "sam2.1-tiny": "facebook/sam2.1-hiera-tiny"}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from models.segmentation.tiny import write_tiny_folder

    return write_tiny_folder(tmp_path_factory.mktemp("sam") / "tiny", "sam", "sam", image_size=64, hidden=16)


def test_segment_anything_sources_are_folders_of_files_on_hugging_face():
    by_name = {s.preset: s for s in weights_sources()}
    for preset, repo in REPOS.items():
        src = by_name[preset]
        assert src.is_folder and src.downloadable and src.page == f"https://huggingface.co/{repo}"
        assert src.file_urls() == [(f, f"https://huggingface.co/{repo}/resolve/main/{f}")
                                   for f in ("config.json", "preprocessor_config.json", "model.safetensors")]
    assert by_name["slimsam"].file == "SlimSAM-uniform-77"
    assert not by_name["chexnet"].is_folder  # one-file presets are unchanged


def test_an_installed_folder_is_present_and_a_partial_one_says_what_it_lacks(tiny, tmp_path):
    src = weights_source("medsam")
    assert not src.present(tmp_path) and src.missing_files(tmp_path) == list(src.files)
    shutil.copytree(tiny, tmp_path / "medsam-vit-base")
    assert src.present(tmp_path)
    (tmp_path / "medsam-vit-base" / "model.safetensors").unlink()
    assert src.missing_files(tmp_path) == ["model.safetensors"]
    out = subprocess.run([sys.executable, "-m", "desktop", "weights", "list", "--models-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    line = next(t for t in out.stdout.splitlines() if t.startswith("medsam "))
    assert "medsam-vit-base/" in line and "incomplete (lacks model.safetensors)" in line
    assert "https://huggingface.co/wanglab/medsam-vit-base/resolve/main/config.json" in out.stdout


def test_a_folder_downloads_file_by_file_and_is_loaded_before_it_takes_its_place(tiny, tmp_path):
    files = {f"/m/{p.name}": p.read_bytes() for p in tiny.iterdir() if p.is_file()}
    with serve(files) as srv:
        got = download_preset("sam-vit-base", tmp_path, url=srv.url("/m"))
    target = tmp_path / "sam-vit-base"
    assert got.path == target and sorted(p.name for p in target.iterdir()) == sorted(p.name for p in tiny.iterdir())
    assert [r[1] for r in srv.requests] == ["/m/config.json", "/m/preprocessor_config.json", "/m/model.safetensors"]
    assert weights_source("sam-vit-base").present(tmp_path)
    assert not (tmp_path / ".downloads" / "sam-vit-base").exists()


def test_a_folder_of_another_model_is_refused_and_nothing_is_installed(tiny, tmp_path):
    wrong = shutil.copytree(tiny, tmp_path / "wrong")
    config = json.loads((wrong / "config.json").read_text())
    config["model_type"] = "vit"
    (wrong / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match=r"config.json is for a vit model .* not for sam2.1-tiny"):
        install_folder("sam2.1-tiny", wrong, tmp_path / "models")
    assert not (tmp_path / "models" / "sam2.1-hiera-tiny").exists()
    with pytest.raises(WeightsError, match=r"not a folder; medsam's weights are a folder holding config.json"):
        install_folder("medsam", wrong / "config.json", tmp_path / "models")
    assert install_folder("slimsam", tiny, tmp_path / "models") == tmp_path / "models" / "SlimSAM-uniform-77"
    assert weights_source("slimsam").present(tmp_path / "models")


def test_the_dialog_lists_the_folders_files_and_chooses_a_folder(qtbot, tiny, tmp_path):
    from PySide6.QtCore import QSettings

    from desktop.ui.dialogs.weights_dialog import GetWeightsDialog
    from desktop.ui.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    models = tmp_path / "models"
    dialog = GetWeightsDialog(win, weights_source("medsam"), models)
    qtbot.addWidget(dialog)
    assert dialog.state_label.text() == "missing" and dialog.choose_button.text() == "Choose folder…"
    text = dialog.files_label.text()
    assert "config.json, preprocessor_config.json, model.safetensors" in text
    assert "from https://huggingface.co/wanglab/medsam-vit-base/resolve/main/" in text
    job = dialog.choose_file(str(tiny))  # the folder is checked by loading it, then copied
    qtbot.waitUntil(lambda: job.state == "done", timeout=60000)
    assert dialog.state_label.text() == "in the models folder"
    assert sorted(p.name for p in (models / "medsam-vit-base").iterdir()) == sorted(p.name for p in tiny.iterdir())
