"""The viewer window with pytest-qt (offscreen): open, step, window/level, bad files, the seam."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDockWidget, QGraphicsRectItem, QGraphicsView, QLabel, QMessageBox
from viewer_helpers import make_window, open_and_wait

from desktop.core.imaging import read_image
from desktop.core.samples import SAMPLE_NAMES, write_samples
from desktop.ui.viewer.image_list import ErrorRole

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return make_window(qtbot, tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("viewer")
    write_samples(folder)
    (folder / "zz_broken.dcm").write_bytes(b"\x01\x02" * 100)
    (folder / ".loupe").mkdir()
    (folder / ".loupe" / "ignored.png").write_bytes(b"")
    return folder


def _drag(canvas, button, start, end, steps=5, release=True):
    vp = canvas.viewport()
    from PySide6.QtWidgets import QApplication

    def send(kind, pos, buttons, btn):
        ev = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos.toPoint())), btn, buttons,
                         Qt.NoModifier)
        QApplication.sendEvent(vp, ev)

    send(QEvent.MouseButtonPress, start, button, button)
    for k in range(1, steps + 1):
        send(QEvent.MouseMove, start + (end - start) * (k / steps), button, Qt.NoButton)
    if release:
        send(QEvent.MouseButtonRelease, end, Qt.NoButton, button)


def _pixmap_rgb(canvas) -> np.ndarray:
    """What the image item really holds, read back from its pixmap as RGB."""
    from PySide6.QtGui import QImage

    image = canvas.image_item.pixmap().toImage().convertToFormat(QImage.Format_RGB888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    return rows[:, : 3 * w].reshape(h, w, 3).copy()


def test_open_folder_lists_and_shows_the_first_image(qtbot, window, sample_folder):
    with qtbot.waitSignal(window.folder_opened) as opened:
        window.open_folder(sample_folder)
    assert opened.args == [str(sample_folder.resolve())]
    qtbot.waitUntil(lambda: len(window.image_paths()) == len(SAMPLE_NAMES) + 1, timeout=10000)
    assert window.folder == sample_folder.resolve()
    assert window.image_paths() == [str(sample_folder.resolve() / n) for n in SAMPLE_NAMES] + [
        str(sample_folder.resolve() / "zz_broken.dcm")]
    qtbot.waitUntil(lambda: window.current_path() == window.image_paths()[0])
    expected = read_image(window.image_paths()[0]).display()
    np.testing.assert_array_equal(window.current_rgb(), expected)
    assert window.canvas.image_item.pixmap().width() == expected.shape[1]


def test_step_through_with_keys_and_methods(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder, len(SAMPLE_NAMES) + 1)
    paths = window.image_paths()
    seen = []
    window.current_image_changed.connect(seen.append)
    window.canvas.setFocus()
    for key, expected in zip((Qt.Key_D, Qt.Key_PageDown, Qt.Key_Right), paths[1:4]):
        qtbot.keyClick(window.canvas, key)  # shown at once if prefetched, else once decoded
        qtbot.waitUntil(lambda e=expected: window.current_path() == e, timeout=10000)
    assert seen == paths[1:4]
    qtbot.keyClick(window.canvas, Qt.Key_A)
    qtbot.waitUntil(lambda: window.current_path() == paths[2], timeout=10000)
    window.go_previous()
    assert window.current_path() == paths[1]
    for _ in range(20):
        window.go_next()
    assert window.current_path() == paths[-1]


def test_arrow_keys_yield_to_a_selected_scene_item(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder)
    first = window.current_path()
    box = QGraphicsRectItem(0, 0, 20, 20)
    box.setFlag(QGraphicsRectItem.ItemIsSelectable)
    window.canvas.scene().addItem(box)
    box.setSelected(True)
    window.canvas.setFocus()
    view = window.image_list.view
    qtbot.keyClick(window.canvas, Qt.Key_Right)
    assert window.current_path() == first and view.currentIndex().row() == 0  # the selected item got the arrow
    box.setSelected(False)
    qtbot.keyClick(window.canvas, Qt.Key_Right)
    assert view.currentIndex().row() == 1  # the list moves at once, the image follows once decoded
    qtbot.waitUntil(lambda: window.current_path() != first, timeout=10000)


def test_right_drag_changes_window_level_and_the_pixels(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder)
    window.show_image(sample_folder / "02_phantom_16bit.png")
    before = window.canvas.shown_pixels().copy()
    center0, width0 = window.wl_panel.center.value(), window.wl_panel.width.value()
    _drag(window.canvas, Qt.RightButton, QPointF(100, 100), QPointF(40, 160))
    after = window.canvas.shown_pixels()
    assert not np.array_equal(before, after)
    assert window.wl_panel.width.value() < width0 and window.wl_panel.center.value() > center0
    image = window.current_image()
    np.testing.assert_array_equal(after, image.render(window.wl.user))
    # the left button belongs to the scene: no window/level change
    window.wl.reset()
    reset = window.canvas.shown_pixels().copy()
    _drag(window.canvas, Qt.LeftButton, QPointF(100, 100), QPointF(40, 160))
    np.testing.assert_array_equal(window.canvas.shown_pixels(), reset)


def test_drag_moves_only_render_and_the_release_saves_once(qtbot, window, sample_folder):
    """During a right-drag each move re-renders (the pixmap equals the reference display()), but
    settings are written and the preset menu rebuilt only when the button is released."""
    open_and_wait(qtbot, window, sample_folder)
    window.show_image(sample_folder / "07_ct_phantom_rescaled.dcm")
    writes, rebuilds = [], []
    real_set_value = window.settings.setValue
    window.settings.setValue = lambda *a: (writes.append(a[0]), real_set_value(*a))
    real_remove = window.settings.remove
    window.settings.remove = lambda key: (writes.append(key), real_remove(key))  # unlocked: the folder forgets
    combo = window.wl_panel.presets.model()
    combo.rowsInserted.connect(lambda *a: rebuilds.append("rows"))
    combo.modelReset.connect(lambda *a: rebuilds.append("reset"))
    shown = []
    window.canvas.image_shown.connect(lambda: shown.append(window.wl.user))
    _drag(window.canvas, Qt.RightButton, QPointF(100, 100), QPointF(160, 40), steps=6, release=False)
    assert len(shown) == 6 and len(set(shown)) == 6  # one render per move, each a new window
    assert writes == [] and rebuilds == []
    assert window.wl_panel.width.value() == pytest.approx(window.wl.user.width, abs=0.05)  # fields follow live
    image = window.current_image()
    np.testing.assert_array_equal(_pixmap_rgb(window.canvas), image.display(window.wl.user))
    vp = window.canvas.viewport()
    from PySide6.QtWidgets import QApplication

    QApplication.sendEvent(vp, QMouseEvent(QEvent.MouseButtonRelease, QPointF(160, 40),
                                           QPointF(vp.mapToGlobal(QPointF(160, 40).toPoint())),
                                           Qt.RightButton, Qt.NoButton, Qt.NoModifier))
    assert len(writes) == 1 and writes[0].startswith("window_level/")
    assert rebuilds and window.wl_panel.presets.currentText().startswith("Manual (")
    assert len(shown) == 6  # the release itself does not render again


def test_presets_fields_invert_and_reset(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder)
    window.show_image(sample_folder / "07_ct_phantom_rescaled.dcm")
    labels = [window.wl_panel.presets.itemText(i) for i in range(window.wl_panel.presets.count())]
    assert any(t.startswith("Lung (-600/1500)") for t in labels)
    assert not any(t.startswith("CT Lung") for t in labels)  # the file's "Lung" is the same window
    assert any(t.startswith("CT Brain (40/80)") for t in labels)
    lung = next(i for i, t in enumerate(labels) if t.startswith("Lung"))
    window.wl_panel.presets.activated.emit(lung)
    image = window.current_image()
    np.testing.assert_array_equal(window.canvas.shown_pixels(), image.render((-600, 1500)))
    window.wl_panel.width.setValue(80)
    window.wl_panel.center.setValue(40)
    np.testing.assert_array_equal(window.canvas.shown_pixels(), image.render((40, 80)))
    window.wl_panel.invert.setChecked(True)
    np.testing.assert_array_equal(window.canvas.shown_pixels(), 255 - image.render((40, 80)))
    np.testing.assert_array_equal(_pixmap_rgb(window.canvas), 255 - image.display((40, 80)))
    window.wl_panel.reset.click()
    np.testing.assert_array_equal(window.canvas.shown_pixels(), image.render())


def test_window_level_lock_is_remembered_per_folder(qtbot, window, sample_folder, tmp_path):
    open_and_wait(qtbot, window, sample_folder)
    window.wl.set_window((123.0, 456.0))
    window.wl_panel.lock.setChecked(True)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(sample_folder / "01_chest_phantom.png", other)
    open_and_wait(qtbot, window, other)
    assert window.wl.user is None and not window.wl.locked
    open_and_wait(qtbot, window, sample_folder)
    assert window.wl.locked and window.wl_panel.lock.isChecked()
    assert window.wl.user[:2] == (123.0, 456.0)


def test_bad_file_is_listed_with_its_reason(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder, len(SAMPLE_NAMES) + 1)
    bad = str(sample_folder.resolve() / "zz_broken.dcm")
    model = window.image_list.model
    index = model.index(model.row_of[bad])
    model.data(index, Qt.DecorationRole)  # as the view does when the row is painted
    qtbot.waitUntil(lambda: index.data(ErrorRole) is not None, timeout=10000)
    assert "not a DICOM file" in index.data(ErrorRole)
    assert "not a DICOM file" in index.data(Qt.ToolTipRole)
    assert window.show_image(bad) is False
    assert "not a DICOM file" in window.canvas.message
    assert window.notifications.history[-1][0] == "warning"
    assert window.findChildren(QMessageBox) == []  # never a blocking dialog
    window.go_previous()
    assert window.current_image() is not None  # and the viewer goes on


def test_multiframe_slider_changes_frames(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder)
    window.show_image(sample_folder / "09_multiframe.dcm")
    assert window.view_area.bar.isVisibleTo(window) and window.view_area.slider.maximum() == 7
    first = window.canvas.shown_pixels().copy()
    window.view_area.slider.setValue(2)
    assert window.current_frame() == 2
    np.testing.assert_array_equal(window.current_rgb(), window.current_image().display(frame=2))
    assert not np.array_equal(first, window.canvas.shown_pixels())


def test_inspector_hides_phi_until_revealed(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder)
    window.show_image(sample_folder / "07_ct_phantom_rescaled.dcm")
    values = {name: value for _, name, value in window.inspector.rows()}
    assert "Phantom^Loupe" not in values.values() and values["Patient's Name"].startswith("••••")
    assert values["Institution Name"].startswith("••••") and values["Rescale Slope"] == "0.5"
    window.inspector.reveal.click()
    values = {name: value for _, name, value in window.inspector.rows()}
    assert values["Patient's Name"] == "Phantom^Loupe"


def test_neighbours_are_prefetched(qtbot, window, sample_folder):
    open_and_wait(qtbot, window, sample_folder, len(SAMPLE_NAMES) + 1)
    paths = window.image_paths()
    window.show_image(paths[3])
    qtbot.waitUntil(lambda: all(window.cache.get(p) is not None for p in paths[2:6]), timeout=10000)


def test_the_first_image_gets_its_neighbours_once_the_scan_lists_them(qtbot, window, sample_folder):
    """The scan yields the first image alone (shown at once); the next ones, listed later, are
    decoded ahead too, so the first step is as quick as the others."""
    open_and_wait(qtbot, window, sample_folder, len(SAMPLE_NAMES) + 1)
    paths = window.image_paths()
    assert window.current_path() == paths[0]
    qtbot.waitUntil(lambda: all(window.cache.get(p) is not None for p in paths[1:3]), timeout=10000)


def test_seam_menus_panels_notify_and_selection(qtbot, window, sample_folder):
    models = window.menu("Models")
    window.menu("Edit")
    window.menu("Train")
    assert window.menu("Models") is models
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Models", "Train", "Help"]
    dock = window.add_panel("Test panel", QLabel("hello"))
    assert isinstance(dock, QDockWidget) and window.dockWidgetArea(dock) == Qt.RightDockWidgetArea
    window.notify("Something happened", details="the details", level="error")
    assert window.notifications.history[-1] == ("error", "Something happened", "the details")
    window.notifications.show_details()
    assert not window.notifications._details_view.isModal()
    assert isinstance(window.canvas, QGraphicsView)
    open_and_wait(qtbot, window, sample_folder, len(SAMPLE_NAMES) + 1)
    view = window.image_list.view
    view.selectAll()
    assert window.selected_paths() == window.image_paths()
    window.image_list.filter.setText("dcm")
    window.go_next()
    assert window.current_path().endswith(".dcm")


def test_other_menus_go_before_help_and_a_dropped_file_opens_its_folder(qtbot, window, sample_folder):
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    window.menu("Tools")
    window.menu("Models")
    assert [a.text() for a in window.menuBar().actions()] == ["File", "View", "Models", "Tools", "Help"]
    target = sample_folder / "08_cr_monochrome1.dcm"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(target))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(enter)  # Qt delivers drops only during a real drag: call the handlers
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: window.current_path() == str(target.resolve()), timeout=10000)
    assert window.folder == sample_folder.resolve()


def test_recent_folders_and_geometry_survive_a_restart(qtbot, window, sample_folder, tmp_path, monkeypatch):
    from viewer_helpers import make_window

    from desktop.ui.viewer.actions import fill_recent_menu

    open_and_wait(qtbot, window, sample_folder)
    window.resize(900, 640)
    fill_recent_menu(window)
    assert [a.text() for a in window.recent_menu.actions()] == [str(sample_folder.resolve())]
    window.close()
    again = make_window(qtbot, tmp_path, monkeypatch)  # same settings file, fresh window
    fill_recent_menu(again)
    assert [a.text() for a in again.recent_menu.actions()] == [str(sample_folder.resolve())]
    assert again.settings.value("window/geometry") is not None
