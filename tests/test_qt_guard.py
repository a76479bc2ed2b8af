"""A Python exception inside code that Qt calls from C++ (event filters, paint/mouse/key overrides)
never ends or wedges Loupe (decision 0152): the event goes on to the widget, the window says what
failed and what to do (the traceback under Details), a repeat is not said again at once, a half
drawn mark is dropped, and over a quiz (no status bar) a non-modal box says it too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QGraphicsRectItem, QMessageBox

from desktop.ui.editor.canvas_input import CanvasInput
from tests.editor_helpers import drag_scene, image_folder, make_editor_window, open_folder

ROOT = Path(__file__).resolve().parent.parent
EVENT_FILTER_CLASSES = [
    ("desktop.ui.editor.canvas_input", "CanvasInput"), ("desktop.ui.editor.quit_prompt", "QuitPrompt"),
    ("desktop.ui.overlays.corners", "CornerOverlay"), ("desktop.ui.teaching.film_view", "_MarkDrawing"),
    ("desktop.ui.teaching.case_form", "_FieldKeys"), ("desktop.ui.teaching.presentation", "PresentationWindow"),
    ("desktop.ui.viewer.cine", "CineControl"), ("desktop.ui.model_panel", "WeightsDrop"),
    ("desktop.ui.measure.tools", "MeasureInput"), ("desktop.ui.measure.probe", "PixelProbe"),
]


def last_said(win):
    level, text, details = win.notifications.history[-1]
    return level, text, details or ""


def broken(message):
    def raise_it(*_args, **_kwargs):
        raise ValueError(message)

    return raise_it


def test_every_event_filter_in_the_app_is_guarded():
    import importlib

    found = []
    for root, _dirs, files in os.walk(ROOT / "desktop" / "ui"):
        for name in files:
            if name.endswith(".py") and "def eventFilter" in (Path(root) / name).read_text(encoding="utf-8"):
                found.append(name)
    assert len(found) == len(EVENT_FILTER_CLASSES)  # a new filter is added to the list above, guarded
    for module, cls in EVENT_FILTER_CLASSES:
        method = getattr(importlib.import_module(module), cls).eventFilter
        assert getattr(method, "__loupe_guarded__", None), f"{cls}.eventFilter is not guarded"


def test_an_error_in_the_box_editors_key_filter_is_said_and_the_key_still_reaches_the_image(
        qtbot, tmp_path, monkeypatch, guard_reports):
    win = make_editor_window(qtbot, tmp_path, monkeypatch)
    open_folder(qtbot, win, image_folder(tmp_path / "f", n=1))
    monkeypatch.setattr(CanvasInput, "_filter", broken("boom in the filter"))
    qtbot.keyPress(win.canvas, Qt.Key_Space)
    assert win.canvas._space  # the filter let the key through: the canvas pans with Space held
    qtbot.keyRelease(win.canvas, Qt.Key_Space)
    assert not win.canvas._space
    level, text, details = last_said(win)
    assert level == "error"
    assert text.startswith("Unexpected error in the box editor's mouse and keys")
    assert "restart Loupe" in text and "Details" in text
    assert "ValueError: boom in the filter" in details and "Traceback" in details
    # every event through the filter failed (the release too, a repaint...): caught and logged,
    # said once
    assert len(guard_reports) >= 2 and {w for w, _e in guard_reports} == {"the box editor's mouse and keys"}
    assert sum(1 for lv, *_ in win.notifications.history if lv == "error") == 1
    assert win.isVisible()


def test_a_paint_error_in_the_overlay_is_said_and_the_image_still_draws(qtbot, tmp_path, monkeypatch,
                                                                        guard_reports):
    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow
    from desktop.ui.overlays.corners import CornerOverlay

    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.overlays:install"])
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    open_folder(qtbot, win, image_folder(tmp_path / "f", n=1))
    monkeypatch.setattr(CornerOverlay, "_layout", broken("no room for the text"))
    win.overlays.lines = {"top-left": ["a line"]}
    win.overlays._pieces_key = None
    win.overlays.repaint()
    assert guard_reports and guard_reports[-1] == ("painting the image overlay", "ValueError: no room for the text")
    assert last_said(win)[1].startswith("Unexpected error in painting the image overlay")
    win.canvas.viewport().repaint()  # the image under it still paints
    assert win.canvas.grab().toImage().pixelColor(win.canvas.width() // 2, win.canvas.height() // 2).isValid()


def test_an_error_while_drawing_a_quiz_mark_drops_the_half_drawn_mark_and_is_said_over_the_quiz(
        qtbot, tmp_path, monkeypatch, guard_reports):
    from desktop.ui.teaching import start_quiz
    from desktop.ui.teaching.film_view import _MarkDrawing
    from tests.teaching_window_helpers import folder_with_cases, make_teaching_window, plan

    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    quiz = start_quiz(win, plan("Ivy", [c1]))
    qtbot.addWidget(quiz)
    qtbot.waitExposed(quiz)
    quiz.activateWindow()
    original, calls = _MarkDrawing._clamped, []

    def clamped_then_broken(self, pos):
        calls.append(pos)
        if len(calls) > 1:  # the press works; the first move fails
            raise ValueError("lost the film")
        return original(self, pos)

    monkeypatch.setattr(_MarkDrawing, "_clamped", clamped_then_broken)
    drag_scene(quiz.view.canvas, (20, 20), (60, 60))
    assert quiz.view.mark_items() == []
    assert not [i for i in quiz.view.canvas.scene().items() if type(i) is QGraphicsRectItem]  # no rubber band left
    assert guard_reports[0] == ("drawing marks on the film", "ValueError: lost the film")
    assert last_said(win)[1].startswith("Unexpected error in drawing marks on the film")
    boxes = [m for m in quiz.findChildren(QMessageBox) if m.isVisible()]
    assert len(boxes) == 1 and not boxes[0].isModal()
    assert boxes[0].text().startswith("Unexpected error in drawing marks on the film")
    assert "ValueError: lost the film" in boxes[0].detailedText()
    monkeypatch.setattr(_MarkDrawing, "_clamped", original)
    drag_scene(quiz.view.canvas, (20, 20), (60, 60))  # the quiz goes on
    assert len(quiz.view.mark_items()) == 1
    quiz.submit()  # nothing left unsent: closing the quiz asks nothing


def test_an_item_change_error_keeps_the_change_qt_made(qtbot, monkeypatch, guard_reports):
    from PySide6.QtCore import QRectF
    from PySide6.QtWidgets import QGraphicsScene

    from desktop.ui.teaching.film_view import MarkItem

    scene = QGraphicsScene()
    item = MarkItem(QRectF(10, 10, 20, 20), "Nodule", None)
    scene.addItem(item)
    monkeypatch.setattr(MarkItem, "pen", broken("no pen"))
    item.setSelected(True)  # itemChange fails while it thickens the outline: the selection stands
    assert item.isSelected()
    assert guard_reports[-1] == ("selecting or moving a mark", "ValueError: no pen")


def test_in_a_real_event_loop_the_window_survives_a_broken_filter_and_a_broken_slot(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "guard_child.py"), "guarded",
                          str(tmp_path / "settings.ini")], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["alive"]
    errors = [text for level, text, has_details in result["said"] if level == "error" and has_details]
    assert any(t.startswith("Unexpected error in the pixel probe") for t in errors), result
    assert any(t.startswith("Unexpected error in Loupe") for t in errors), result  # the slot, via sys.excepthook
    assert "ValueError: probe broke" in run.stderr and "KeyError: 'timer slot broke'" in run.stderr

