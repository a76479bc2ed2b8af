"""Get weights… from the Models dock (pytest-qt, offscreen): the preset card's source, Download from
a local server on 127.0.0.1 with a progress bar until the preset loads, Choose file…, no network,
and presets whose authors publish no weights."""

from __future__ import annotations

import hashlib
import socket

import pytest
from PySide6.QtCore import Qt

from tests.download_server import serve


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="module")
def chexnet_bytes(tmp_path_factory) -> bytes:
    from tests.e2e_helpers import build_preset_weights

    return build_preset_weights("chexnet", tmp_path_factory.mktemp("built")).read_bytes()


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.model_panel:install",
                                                   "desktop.ui.dialogs:install"])
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("models/folder", str(tmp_path / "models"))
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    return w


def _open_dialog(qtbot, win, preset):
    from desktop.ui.dialogs.weights_dialog import GetWeightsDialog

    panel = win.model_panel
    panel.select(preset)
    assert panel.picker.currentText().endswith("(weights missing)")
    assert panel.get_weights_button.isVisibleTo(panel)
    qtbot.mouseClick(panel.get_weights_button, Qt.LeftButton)
    (dialog,) = [d for d in win.findChildren(GetWeightsDialog) if d.isVisible()]
    return dialog


def _wait(qtbot, job, timeout=120000):
    if job.state != "done":
        qtbot.waitSignal(job.finished, timeout=timeout).wait()


def test_download_from_a_local_server_makes_the_preset_available(qtbot, win, tmp_path, chexnet_bytes):
    dialog = _open_dialog(qtbot, win, "chexnet")
    assert "https://github.com/arnoweng/CheXNet" in dialog.page_label.text()
    assert dialog.state_label.text() == "missing" and dialog.download_button.isVisibleTo(dialog)
    with serve({"/model.pth.tar": chexnet_bytes}) as srv:
        dialog.source.url = srv.url("/model.pth.tar")  # the card's address, pointed at the local server
        dialog.source.sha256 = hashlib.sha256(chexnet_bytes).hexdigest()
        seen = []
        qtbot.mouseClick(dialog.download_button, Qt.LeftButton)
        dialog.job.progress.connect(lambda p: seen.append((p.done, p.total)))
        assert dialog.progress.isVisibleTo(dialog)
        job = dialog.job
        _wait(qtbot, job)
    assert job.outcome.error is None, dialog.message.text()
    assert (tmp_path / "models" / "model.pth.tar").read_bytes() == chexnet_bytes
    assert seen[-1] == (len(chexnet_bytes), len(chexnet_bytes))
    assert dialog.state_label.text() == "in the models folder"
    assert "Downloaded and checked" in dialog.message.text()
    assert [r[0] for r in srv.requests] == ["GET"]  # the one GET, and only after the press
    panel = win.model_panel
    assert "(weights missing)" not in panel.picker.currentText()
    qtbot.waitUntil(lambda: panel.model is not None, timeout=120000)  # the preset loads
    assert not panel.get_weights_button.isVisibleTo(panel)


def test_nothing_is_requested_until_download_is_pressed(qtbot, win):
    with serve({}) as srv:
        dialog = _open_dialog(qtbot, win, "heartformer")
        dialog.source.url = srv.url("/x")
        qtbot.wait(200)
        dialog.close()
    assert srv.requests == []


def test_no_network_is_said_in_the_dialog(qtbot, win, tmp_path):
    dialog = _open_dialog(qtbot, win, "heartformer")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    dialog.source.url = f"http://127.0.0.1:{port}/heartformer-v0.1.safetensors"
    qtbot.mouseClick(dialog.download_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    assert "No network: cannot reach 127.0.0.1" in dialog.message.text()
    assert dialog.download_button.isEnabled() and not (tmp_path / "models" / "heartformer-v0.1.safetensors").exists()


def test_choose_file_checks_it_by_loading_then_copies_it(qtbot, win, tmp_path, chexnet_bytes):
    dialog = _open_dialog(qtbot, win, "chexnet")
    bad = tmp_path / "broken.pth.tar"
    bad.write_bytes(chexnet_bytes[: len(chexnet_bytes) // 3])
    job = dialog.choose_file(str(bad))
    _wait(qtbot, job)
    assert "broken.pth.tar" in dialog.message.text() and not (tmp_path / "models" / "model.pth.tar").exists()
    good = tmp_path / "downloads" / "model.pth.tar"
    good.parent.mkdir()
    good.write_bytes(chexnet_bytes)
    job = dialog.choose_file(str(good))
    _wait(qtbot, job)
    assert (tmp_path / "models" / "model.pth.tar").read_bytes() == chexnet_bytes
    assert dialog.state_label.text() == "in the models folder"


def test_a_preset_without_published_weights_points_to_training(qtbot, win, tmp_path, monkeypatch):
    dialog = _open_dialog(qtbot, win, "qing")
    assert not dialog.download_button.isVisibleTo(dialog)
    assert "publish no weights file" in dialog.note.text()
    opened = []
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    qtbot.mouseClick(dialog.folder_button, Qt.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / "models")] and (tmp_path / "models").is_dir()
    assert dialog.train_button.isVisibleTo(dialog)


def test_enter_in_the_dialog_does_not_download(qtbot, win):
    with serve({}) as srv:
        dialog = _open_dialog(qtbot, win, "heartformer")
        dialog.source.url = srv.url("/x")
        assert not dialog.download_button.autoDefault() and not dialog.download_button.isDefault()
        qtbot.keyClick(dialog, Qt.Key_Return)
        qtbot.wait(100)
    assert srv.requests == [] and dialog.job is None


def test_closing_the_dialog_stops_the_download_and_reopening_shows_it_again(qtbot, win, tmp_path):
    from desktop.core.downloads import partial_path

    data = b"x" * 3_000_000
    with serve({"/w": data}) as srv:
        dialog = _open_dialog(qtbot, win, "heartformer")
        dialog.source.url = srv.url("/w")
        srv.stall = 1.0
        qtbot.mouseClick(dialog.download_button, Qt.LeftButton)
        job = dialog.job
        qtbot.waitUntil(lambda: job.state == "running", timeout=5000)
        dialog.reject()
        _wait(qtbot, job, timeout=20000)
    assert job.outcome.cancelled and not (tmp_path / "models" / "heartformer-v0.1.safetensors").exists()
    assert partial_path(tmp_path / "models" / "heartformer-v0.1.safetensors").exists()  # kept to resume
    assert "cancelled" in dialog.message.text()
    win.model_panel.get_weights()
    from desktop.ui.dialogs.weights_dialog import GetWeightsDialog

    assert [d for d in win.findChildren(GetWeightsDialog) if d.isVisible()] == [dialog]
