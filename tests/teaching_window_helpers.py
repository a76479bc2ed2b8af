"""Fixtures for the teaching GUI tests: the real MainWindow with the box editor and the teaching
panel, a folder of films with expert boxes, and cases written through the panel."""

from __future__ import annotations

from desktop.ui.teaching.quiz_setup import QuizPlan
from tests.editor_helpers import image_folder, open_folder


def make_teaching_window(qtbot, tmp_path, monkeypatch, size=(1280, 720)):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.teaching:install"])
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    return win


def folder_with_cases(qtbot, win, tmp_path):
    """Three films; img_0 has two expert Nodule boxes, img_1 one Mass; cases on img_0 and img_1."""
    folder = image_folder(tmp_path / "films", n=3, size=(200, 160))
    editor = open_folder(qtbot, win, folder)
    store = editor.store
    a = store.ensure_image("img_0.png", 200, 160)
    b = store.ensure_image("img_1.png", 200, 160)
    store.add_box(a, "Nodule", 20, 20, 40, 40)
    store.add_box(a, "Nodule", 120, 80, 40, 40)
    store.add_box(b, "Mass", 50, 50, 60, 60)
    book = win.teaching.book
    c1 = book.create([a], history="62F, smoker, haemoptysis", findings="Two nodules", diagnosis="Metastases",
                     keywords=["chest", "oncology"], differential=["Granulomas"])
    c2 = book.create([b], history="40M, fever", findings="Rounded opacity", diagnosis="Round pneumonia",
                     keywords=["chest", "infection"])
    win.teaching.refresh_list()
    editor.reload()
    return folder, store, c1, c2, a, b


def plan(learner, case_ids, labels=("Nodule", "Mass")):
    return QuizPlan(learner, list(case_ids), list(labels), False, 4)
