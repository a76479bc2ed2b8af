"""The window with bad input and possibly identifying data (issue 14, parts 5 and 6): private tags
hidden until "Reveal", the burned-in text banner, a NaN window, names that are not UTF-8."""

from __future__ import annotations

import os

import pytest
from imaging_helpers import small_dicom
from viewer_helpers import make_window, open_and_wait

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return make_window(qtbot, tmp_path, monkeypatch)


def _private_dicom(path, modality="CT", **attrs):
    import pydicom

    small_dicom(path, modality, **attrs)
    ds = pydicom.dcmread(path)
    ds.private_block(0x0009, "ACME 1.0", create=True).add_new(0x01, "LO", "Doe^Janet PID938271")
    ds.save_as(path)
    return path


def test_private_tags_are_hidden_until_reveal(qtbot, window, tmp_path):
    folder = tmp_path / "films"
    folder.mkdir()
    _private_dicom(folder / "a.dcm")
    open_and_wait(qtbot, window, folder, 1)
    rows = {tag: value for tag, _name, value in window.inspector.rows()}
    assert "Doe^Janet PID938271" not in rows.values()
    assert rows["(0009,1001)"] == "•••• hidden (private tag: may identify)"
    assert rows["(0028,0010)"] == "8"  # Rows: public, shown
    assert window.inspector.reveal.isVisibleTo(window.inspector)
    window.inspector.reveal.click()
    rows = {tag: value for tag, _name, value in window.inspector.rows()}
    assert rows["(0009,1001)"] == "Doe^Janet PID938271"
    shown = [window.inspector.table.item(r, 2).text() for r in range(window.inspector.table.rowCount())]
    assert "Doe^Janet PID938271" in shown


@pytest.mark.parametrize("modality, attrs, shown", [("CT", {"BurnedInAnnotation": "YES"}, True),
                                                    ("US", {}, True), ("CT", {}, False)])
def test_burned_in_text_gets_a_banner_over_the_image(qtbot, window, tmp_path, modality, attrs, shown):
    folder = tmp_path / "films"
    folder.mkdir()
    small_dicom(folder / "a.dcm", modality, **attrs)
    small_dicom(folder / "b.dcm", "CT")
    open_and_wait(qtbot, window, folder, 2)
    window.show_image(folder / "a.dcm")
    banner = window.burned_in
    assert banner.isVisible() == shown
    if shown:
        assert "The pixels may show the patient's name or ID" in banner.text()
        assert banner.height() <= 2 * banner.fontMetrics().lineSpacing() + 12  # the image keeps its room
        assert banner.geometry().bottom() <= window.canvas.geometry().top()  # above, not over, the image
    window.show_image(folder / "b.dcm")
    assert not banner.isVisible()  # a CT without the flag: no warning


@pytest.mark.shared_data
def test_real_ultrasound_file_gets_the_banner(qtbot, window, shared_data, tmp_path):
    folder = tmp_path / "us"
    folder.mkdir()
    (folder / "US1_UNCR.dcm").write_bytes((shared_data / "dicom" / "US1_UNCR.dcm").read_bytes())
    open_and_wait(qtbot, window, folder, 1)
    qtbot.waitUntil(lambda: window.current_image() is not None, timeout=10000)
    assert window.burned_in.isVisible() and "modality US" in window.burned_in.text()


def test_nan_window_dicom_is_shown_and_render_errors_are_notified(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "films"
    folder.mkdir()
    small_dicom(folder / "nan.dcm", WindowCenter=float("nan"), WindowWidth=float("nan"))
    small_dicom(folder / "ok.dcm")
    open_and_wait(qtbot, window, folder, 2)
    assert window.show_image(folder / "nan.dcm")  # used to raise in the renderer
    rows = {name: value for _tag, name, value in window.inspector.rows()}
    assert "WindowCenter = nan" in rows["Ignored"]
    from desktop.core.imaging.image import LoupeImage

    def broken(self, *a, **k):
        raise ValueError("cannot convert float NaN to integer")

    monkeypatch.setattr(LoupeImage, "render", broken)
    assert not window.show_image(folder / "ok.dcm")  # a renderer failure: explained, not raised
    level, text, details = window.notifications.history[-1]
    assert level == "warning" and "ok.dcm cannot be shown" in text and "NaN" in details


def test_names_that_are_not_utf8_are_left_out_with_a_message(qtbot, window, tmp_path):
    from exchange_helpers import write_png

    folder = tmp_path / "films"
    write_png(folder / "img.png", 20, 10)
    write_png(folder / os.fsdecode(b"\xff\xfeimg.png"), 20, 10, seed=5)
    open_and_wait(qtbot, window, folder, 1)
    qtbot.waitUntil(lambda: "left out" in window.notifications.label.text(), timeout=10000)
    assert window.image_paths() == [str(folder.resolve() / "img.png")]  # never two rows for one file
    level, text, details = window.notifications.history[-1]
    assert level == "warning" and "1 file(s) left out: their names are not valid UTF-8" in text
    assert "\\xff\\xfeimg.png" in details


def test_export_dialog_warns_of_burned_in_text(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings, Qt

    import desktop.ui.extensions as extensions
    from desktop.core.store import open_store
    from desktop.ui.dialogs.export_dialog import ExportDialog
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.dialogs:install"])
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    folder = tmp_path / "films"
    folder.mkdir()
    small_dicom(folder / "us.dcm", "US")
    with open_store(folder) as store:
        store.add_box(store.ensure_image("us.dcm", 8, 8), "finding", 1, 1, 4, 4)
    open_and_wait(qtbot, win, folder, 1)
    win.export_action.trigger()
    dialog = win.findChildren(ExportDialog)[0]
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("roboflow"))
    dialog.all_images.setChecked(True)
    dialog.out_edit.setText(str(tmp_path / "ds"))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Done." in dialog.message.text(), timeout=30000)
    assert "1 exported image(s) may show the patient&#x27;s name or ID in their pixels" in dialog.message.text()
    level, text, details = win.notifications.history[-1]
    assert level == "warning" and "modality US" in details
