"""The viewer tools in the real window: probe text under a mouse move, ruler/angle/region drawn
with the mouse (known geometry), undo/redo and persistence, overlays and the cine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from editor_helpers import drag_scene
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.measure_helpers import geometry_dicom

EXTENSIONS = ["desktop.ui.editor:install", "desktop.ui.measure:install", "desktop.ui.overlays:install"]


def _window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", EXTENSIONS)
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def _open(qtbot, win, folder):
    win.open_folder(folder)
    qtbot.waitUntil(lambda: win.box_editor.image_id is not None and win.current_image() is not None, timeout=10000)
    win.canvas.setFocus()


@pytest.fixture
def ct(tmp_path):
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 2000, (200, 200)).astype(np.int16)
    folder = tmp_path / "ct"
    folder.mkdir()
    geometry_dicom(folder / "ct.dcm", pixels=stored, PixelSpacing=[0.5, 0.5], RescaleSlope=2, RescaleIntercept=-1024,
                   ImageOrientationPatient=[1, 0, 0, 0, 1, 0], ImagePositionPatient=[0, 0, -30.5],
                   WindowCenter=40, WindowWidth=400)
    return folder, stored.astype(np.float64) * 2 - 1024


def _click(canvas, scene_pt, kind=QEvent.MouseButtonPress):
    vp = canvas.viewport()
    pos = QPointF(canvas.mapFromScene(QPointF(*scene_pt)))
    buttons = Qt.LeftButton if kind == QEvent.MouseButtonPress else Qt.NoButton
    QApplication.sendEvent(vp, QMouseEvent(kind, pos, QPointF(vp.mapToGlobal(pos.toPoint())), Qt.LeftButton,
                                           buttons, Qt.NoModifier))


def _scene_exact(canvas, x, y):
    """The scene point the viewport pixel nearest (x, y) maps back to (what the tool will get)."""
    p = canvas.mapToScene(canvas.mapFromScene(QPointF(x, y)))
    return p.x(), p.y()


def test_probe_shows_hounsfield_units_under_the_mouse(qtbot, tmp_path, monkeypatch, ct):
    folder, hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    vp = win.canvas.viewport()
    target = win.canvas.mapFromScene(QPointF(50.5, 60.5))
    qtbot.mouseMove(vp, target)
    x, y = (int(math.floor(v)) for v in _scene_exact(win.canvas, 50.5, 60.5))
    shown = int(win.canvas.shown_pixels()[y, x])
    expected = f"x {x}  y {y}   {hu[y, x]:.0f} HU   shown {shown}"
    qtbot.waitUntil(lambda: win.probe.label.text() == expected, timeout=3000)
    assert win.probe.label.isVisible()


def test_probe_readings_are_throttled(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    vp = win.canvas.viewport()
    before = win.probe.readings
    for k in range(200):  # 200 moves at once: far fewer readings
        QApplication.sendEvent(vp, QMouseEvent(QEvent.MouseMove, QPointF(100 + k % 50, 100), QPointF(0, 0),
                                               Qt.NoButton, Qt.NoButton, Qt.NoModifier))
    qtbot.wait(120)
    assert 1 <= win.probe.readings - before <= 10


def test_ruler_drawn_with_the_mouse_reads_mm_and_undoes(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    win.measure.actions["line"].trigger()
    assert win.measure.input.kind == "line" and win.measure.actions["line"].isChecked()
    a, b = _scene_exact(win.canvas, 40, 100), _scene_exact(win.canvas, 140, 100)
    drag_scene(win.canvas, (40, 100), (140, 100))
    store = win.box_editor.store
    (m,) = store.measurements(win.box_editor.image_id)
    expected = math.hypot(b[0] - a[0], b[1] - a[1]) * 0.5
    assert m.kind == "line" and m.result["value"] == pytest.approx(expected)
    assert m.text == f"{expected:.1f} mm"
    assert win.measure.items[m.id].label.text() == m.text
    assert win.measure.panel.rows() == [f"Ruler  {m.text}"]
    assert store.box_count() == 0  # no box was drawn
    win.box_editor.undo_stack.undo()
    assert store.measurements(win.box_editor.image_id) == [] and win.measure.items == {}
    assert win.measure.panel.hint.isVisible()
    win.box_editor.undo_stack.redo()
    (again,) = store.measurements(win.box_editor.image_id)
    assert again.id == m.id and m.id in win.measure.items
    # Esc ends the tool; the left button goes back to the box editor
    qtbot.keyClick(win.canvas, Qt.Key_Escape)
    assert win.measure.input.kind is None and not win.measure.actions["line"].isChecked()


def test_a_100_pixel_ruler_at_half_a_millimetre_reads_50_mm_at_1_to_1(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    win.canvas.actual_size()  # one screen pixel per image pixel: the drag lands on whole pixels
    win.measure.input.start("line")
    drag_scene(win.canvas, (50, 50), (150, 50))
    (m,) = win.box_editor.store.measurements(win.box_editor.image_id)
    assert m.text == "50.0 mm" and m.points == ((50.0, 50.0), (150.0, 50.0))


def test_angle_by_three_clicks_and_ellipse_statistics(qtbot, tmp_path, monkeypatch, ct):
    folder, hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    win.canvas.actual_size()
    win.measure.input.start("angle")
    for pt in ((150, 100), (100, 100), (150, 50)):
        _click(win.canvas, pt)
        _click(win.canvas, pt, QEvent.MouseButtonRelease)
    (ang,) = win.box_editor.store.measurements(win.box_editor.image_id)
    assert ang.kind == "angle" and ang.text == "45.0°"
    assert win.measure.input.preview is None  # nothing of the drawing is left behind
    win.measure.input.start("ellipse")
    drag_scene(win.canvas, (20, 30), (80, 70))
    roi = win.box_editor.store.measurements(win.box_editor.image_id)[-1]
    ii, jj = np.mgrid[0:200, 0:200]
    mask = ((jj + 0.5 - 50) / 30) ** 2 + ((ii + 0.5 - 50) / 20) ** 2 <= 1
    assert roi.result["mean"] == pytest.approx(hu[mask].mean())
    assert roi.result["sd"] == pytest.approx(hu[mask].std())
    assert (roi.result["min"], roi.result["max"]) == (hu[mask].min(), hu[mask].max())
    assert roi.result["area"] == pytest.approx(math.pi * 30 * 20 * 0.25)
    assert "HU" in roi.text and "mm²" in roi.text


def test_measurements_persist_after_reopening(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    elsewhere = tmp_path / "elsewhere"
    geometry_dicom((elsewhere.mkdir() or elsewhere) / "b.dcm", rows=16, cols=16)
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    win.measure.input.start("box")
    drag_scene(win.canvas, (10, 10), (60, 40))
    _open(qtbot, win, elsewhere)  # the folder's store is closed (everything saved) ...
    assert win.measure.items == {} and win.measure.panel.rows() == []
    from desktop.core.store import open_store

    with open_store(folder) as store:  # ... and a second reader finds the measurement on disk
        (m,) = list(store.all_measurements())
        assert m.kind == "box" and "mm²" in m.text
    _open(qtbot, win, folder)  # opened again: on the canvas and in the list
    qtbot.waitUntil(lambda: len(win.measure.items) == 1, timeout=3000)
    assert win.measure.panel.rows()[0].startswith("Box  mean")


def test_delete_key_removes_the_selected_measurement(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    win.measure.input.start("line")
    drag_scene(win.canvas, (40, 100), (140, 120))
    win.measure.input.stop()
    (item,) = win.measure.items.values()
    item.setSelected(True)
    win.box_editor.actions["delete"].trigger()
    assert win.box_editor.store.measurements(win.box_editor.image_id) == []
    assert win.box_editor.undo_stack.undoText().startswith("Delete 1 measurement")


def test_w_takes_the_left_button_back_for_boxes(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    win.measure.input.start("line")
    win.box_editor.actions["draw"].trigger()
    drag_scene(win.canvas, (40, 40), (90, 90))
    assert win.box_editor.store.box_count() == 1
    assert win.box_editor.store.measurement_count() == 0
    assert win.measure.input.kind is None


def test_overlay_letters_and_no_patient_data_until_revealed(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    text = win.overlays.text()
    assert "right: L" in text and "left: R" in text and "top: A" in text and "bottom: P" in text
    assert "CT" in text and "W 400  L 40" in text and "Slice -30.50 mm" in text
    assert "Test^Patient" not in text and "T-1" not in text
    win.inspector.reveal.setChecked(True)
    assert "Test^Patient" in win.overlays.text()
    win.inspector.reveal.setChecked(False)
    win.overlays.action.trigger()  # I hides them
    assert win.overlays.text() == "" and not win.overlays.isVisible()
    assert win.settings.value("view/overlays") == "false"


VIEWER_TOOL_KEYS = ("I", "M", "Shift+M", "E", "Shift+E", "C", "Ctrl+Right", "Ctrl+Left")


def test_the_tool_keys_are_on_the_sheet_and_nothing_else_in_the_window_claims_them(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from desktop.ui.main_window import MainWindow
    from desktop.ui.viewer.help_dialogs import shortcut_rows

    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))  # every panel
    qtbot.addWidget(win)
    rows = [(text, keys, menu) for text, keys, menu in shortcut_rows(win)
            if not menu.startswith(("Quiz", "Presentation"))]  # those are other windows
    keys = [k for _t, keys, _m in rows for k in keys.split(", ")]
    for key in VIEWER_TOOL_KEYS:
        assert keys.count(key) == 1, (key, [r for r in rows if key in r[1].split(", ")])


def test_burned_in_banner_for_ultrasound(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "us"
    folder.mkdir()
    geometry_dicom(folder / "us.dcm", rows=32, cols=32, modality="US", sop_class="1.2.840.10008.5.1.4.1.1.6.1")
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    assert win.burned_in.isVisible() and "ultrasound" in win.burned_in.text()


@pytest.fixture
def cine_folder(tmp_path):
    folder = tmp_path / "cine"
    folder.mkdir()
    geometry_dicom(folder / "loop.dcm", rows=64, cols=64, frames=12, modality="XA",
                   sop_class="1.2.840.10008.5.1.4.1.1.12.1", FrameTime=50.0)  # 20 fps
    geometry_dicom(folder / "other.dcm", rows=64, cols=64)
    return folder


def test_frame_keys_and_slider_keys(qtbot, tmp_path, monkeypatch, cine_folder):
    win = _window(qtbot, tmp_path, monkeypatch)
    win.open_folder(cine_folder)
    qtbot.waitUntil(lambda: len(win.image_paths()) == 2 and win.current_image() is not None, timeout=10000)
    win.show_image(str(cine_folder / "loop.dcm"))
    path = win.current_path()
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_Right, Qt.ControlModifier)
    assert win.current_frame() == 1
    qtbot.keyClick(win.canvas, Qt.Key_Left, Qt.ControlModifier)
    qtbot.keyClick(win.canvas, Qt.Key_Left, Qt.ControlModifier)
    assert win.current_frame() == 11  # wraps
    slider = win.view_area.slider
    qtbot.mouseClick(slider, Qt.LeftButton, pos=QPoint(2, slider.height() // 2))
    slider.setFocus()
    start = win.current_frame()
    qtbot.keyClick(slider, Qt.Key_PageDown)
    assert win.current_frame() == (start + 1) % 12 and win.current_path() == path  # a frame, not an image
    qtbot.keyClick(slider, Qt.Key_End)
    assert win.current_frame() == 11
    qtbot.keyClick(slider, Qt.Key_Escape)
    qtbot.keyClick(win.canvas, Qt.Key_PageDown)  # with the canvas focused it is the next image again
    qtbot.waitUntil(lambda: win.current_path() != path, timeout=5000)


def test_cine_plays_at_the_files_rate(qtbot, tmp_path, monkeypatch, cine_folder):
    win = _window(qtbot, tmp_path, monkeypatch)
    win.open_folder(cine_folder)
    qtbot.waitUntil(lambda: len(win.image_paths()) == 2 and win.current_image() is not None, timeout=10000)
    win.show_image(str(cine_folder / "loop.dcm"))
    cine = win.cine
    assert cine.fps() == pytest.approx(20.0) and "FrameTime" in cine.rate.toolTip()
    assert cine.button.isVisible() and cine.rate.isVisible()
    from PySide6.QtCore import QElapsedTimer

    clock = QElapsedTimer()
    clock.start()
    qtbot.keyClick(win.canvas, Qt.Key_C)
    assert cine.playing
    assert "20 fps" in win.overlays.text()
    qtbot.waitUntil(lambda: cine.shown + cine.skipped >= 8, timeout=5000)
    elapsed = clock.elapsed() / 1000.0
    advanced = cine.shown + cine.skipped
    # the frames due by the clock at 20 fps, with room for a loaded machine (never faster than the rate)
    assert advanced <= 20.0 * elapsed + 2
    assert elapsed < 3.0
    qtbot.keyClick(win.canvas, Qt.Key_C)
    assert not cine.playing
    win.show_image(str(cine_folder / "other.dcm"))
    assert not cine.actions["play"].isEnabled()


def test_dragging_a_rulers_end_remeasures_and_undoes(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    win.canvas.actual_size()
    win.measure.input.start("line")
    drag_scene(win.canvas, (50, 50), (150, 50))
    win.measure.input.stop()
    store, image_id = win.box_editor.store, win.box_editor.image_id
    (m,) = store.measurements(image_id)
    win.measure.items[m.id].setSelected(True)
    drag_scene(win.canvas, (150, 50), (150, 90))  # the right-hand end, 40 rows down
    qtbot.waitUntil(lambda: store.measurement(m.id).points == ((50.0, 50.0), (150.0, 90.0)), timeout=3000)
    moved = store.measurement(m.id)
    assert moved.result["value"] == pytest.approx(math.hypot(100, 40) * 0.5)
    assert win.measure.items[m.id].label.text() == moved.text
    assert win.box_editor.undo_stack.undoText() == "Move ruler"
    win.box_editor.undo_stack.undo()
    assert store.measurement(m.id).text == "50.0 mm" and win.measure.items[m.id].label.text() == "50.0 mm"
    # dragging the line itself (not an end) moves the whole ruler: the same length
    drag_scene(win.canvas, (100, 50), (100, 70))
    qtbot.waitUntil(lambda: store.measurement(m.id).points == ((50.0, 70.0), (150.0, 70.0)), timeout=3000)
    assert store.measurement(m.id).text == "50.0 mm"
    assert store.box_count() == 0


def test_measurements_dock_export_writes_the_csv_the_cli_writes(qtbot, tmp_path, monkeypatch, ct):
    import csv

    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.dialogs.export_dialog import ExportDialog
    from desktop.ui.main_window import MainWindow

    folder, _hu = ct
    monkeypatch.setattr(extensions, "EXTENSIONS", EXTENSIONS + ["desktop.ui.dialogs:install"])
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    _open(qtbot, win, folder)
    win.canvas.actual_size()
    win.measure.input.start("line")
    drag_scene(win.canvas, (50, 50), (150, 50))
    win.measure.input.start("ellipse")
    drag_scene(win.canvas, (20, 30), (80, 70))
    win.measure.input.stop()
    win.measure.panel.export_button.click()
    (dialog,) = win.findChildren(ExportDialog)
    assert dialog.fmt() == "measurements" and dialog.out_edit.text().endswith("measurements.csv")
    out = tmp_path / "m.csv"
    dialog.out_edit.setText(str(out))
    job = dialog.run_export()
    if job.state != "done":
        qtbot.waitSignal(job.finished, timeout=30000).wait()
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [(r["kind"], r["value"], r["unit"]) for r in rows][0] == ("line", "50.0", "mm")
    assert rows[1]["kind"] == "ellipse" and rows[1]["value_unit"] == "HU" and rows[1]["area_unit"] == "mm²"
    assert rows[0]["file_name"].startswith("img")  # no path, no patient


def test_one_tool_at_a_time_with_the_assist_mode(qtbot, tmp_path, monkeypatch, ct):
    folder, _hu = ct
    win = _window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, win, folder)
    assist = getattr(win.box_editor, "assist", None)
    if assist is None:
        pytest.skip("this build's box editor has no assist mode")
    assist.set_active(True)
    win.measure.input.start("line")
    assert not assist.active and win.measure.input.kind == "line"
    assist.set_active(True)  # S: the assist mode takes the left button back
    assert win.measure.input.kind is None
