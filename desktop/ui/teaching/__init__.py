"""Teaching: the Cases dock (teaching cases, their fields, search), the Teaching menu, the quiz,
presentation mode and the quiz results. `install(window)` is called by desktop/ui/extensions.py
after the box editor (whose store and undo stack it shares) and sets `window.teaching` (the
CasePanel; see case_panel.py for its seam)."""

from __future__ import annotations


def install(window):
    from PySide6.QtGui import QAction, QUndoStack

    from desktop.ui.teaching.case_panel import CasePanel
    from desktop.ui.viewer.help_dialogs import register_keys

    editor = getattr(window, "box_editor", None)
    stack = editor.undo_stack if editor is not None else QUndoStack(window)
    panel = CasePanel(window, stack)
    window.teaching = panel
    panel.dock = window.add_panel("Cases", panel)  # short: the right side holds many tabs
    if editor is not None:
        editor.store_opened.connect(panel.set_store)
        editor.store_refreshed.connect(lambda: panel.refresh_list())
        # a new store (another folder, Edit a Copy…): the panel follows; closing drops it
        window.folder_opened.connect(lambda _f: panel.set_store(editor.store))
        # another folder (or Edit a Copy…): the store a quiz or presentation used is closed
        window.folder_opened.connect(lambda _f: close_teaching_windows(window))
        editor.store_opened.connect(lambda _s: close_teaching_windows(window))
    window.current_image_changed.connect(panel.follow_image)

    from desktop.ui.viewer.actions import menu_action

    menu = window.menu("Teaching")

    def add(text, slot, keys=(), tip=None) -> QAction:
        return menu_action(window, menu, text, slot, keys, tip)

    actions = {
        "new": add("&New Case from This Image", lambda: panel.new_case(False), ["Ctrl+Shift+N"]),
        "new_patient": add("New Case from This &Patient's Images", lambda: panel.new_case(True)),
        "add_image": add("&Add This Image to the Case", panel.add_shown_image),
        "remove_image": add("Re&move This Image from the Case", panel.remove_shown_image),
        "delete": add("&Delete Case", panel.delete_selected),
    }
    menu.addSeparator()
    actions["find"] = add("&Find Cases…", lambda: _find(panel), ["Ctrl+Shift+F"])
    menu.addSeparator()
    actions["quiz"] = add("Start &Quiz…", lambda: start_quiz(window))
    actions["present"] = add("&Present Cases", lambda: start_presentation(window), ["F5"],
                             tip="Full screen on black; Space reveals boxes, labels, then the text; Esc leaves")
    actions["results"] = add("Quiz &Results…", lambda: show_results(window))
    menu.addSeparator()
    actions["export"] = add("&Export Teaching Set…", lambda: _export_set(window),
                            tip="A web page with the cases and a quiz that opens in any browser, no server")
    panel.actions = actions
    panel.quiz_button.clicked.connect(lambda: start_quiz(window))
    panel.present_button.clicked.connect(lambda: start_presentation(window))
    panel.results_button.clicked.connect(lambda: show_results(window))
    from desktop.ui.teaching.presentation import KEYS as PRESENT_KEYS
    from desktop.ui.teaching.quiz_window import KEYS as QUIZ_KEYS

    register_keys(window, "Quiz window", QUIZ_KEYS)
    register_keys(window, "Presentation mode", PRESENT_KEYS)
    return panel


def _export_set(window) -> None:
    from desktop.ui.dialogs import open_export

    open_export(window, "teaching")


def close_teaching_windows(window) -> None:
    """Close an open quiz, presentation or results window (their store is going away). A quiz's
    submitted answers are saved already; marks not yet submitted are dropped without asking."""
    for name in ("quiz_window", "presentation", "results_dialog"):
        other = getattr(window, name, None)
        if other is None:
            continue
        try:
            if other.isVisible():
                if hasattr(other, "force_close"):
                    other.force_close()
                else:
                    other.close()
        except RuntimeError:  # already deleted by Qt
            pass
        setattr(window, name, None)


def _find(panel) -> None:
    panel.dock.show()
    panel.dock.raise_()
    panel.search.setFocus()
    panel.search.selectAll()


def _ready(window) -> bool:
    panel = window.teaching
    if panel.book is None:
        window.notify("Open a folder first: teaching cases are kept with its images")
        return False
    if panel.book.count() == 0:
        window.notify("This folder has no teaching cases yet: show a film and press New Case in the Cases "
                      "dock")
        panel.dock.show()
        panel.dock.raise_()
        return False
    return True


def start_quiz(window, plan=None):
    """Ask for the learner and the cases (unless `plan` is given), then open the quiz window."""
    from desktop.ui.teaching.quiz_setup import QuizSetupDialog
    from desktop.ui.teaching.quiz_window import QuizWindow
    from models.errors import LoupeError

    if not _ready(window):
        return None
    panel = window.teaching
    if plan is None:
        dialog = QuizSetupDialog(panel)
        if dialog.exec() != QuizSetupDialog.Accepted:
            return None
        plan = dialog.plan()
    try:
        quiz = QuizWindow(window, panel.store, plan)
    except LoupeError as exc:
        window.notify("The quiz could not start", details=str(exc), level="error")
        return None
    window.quiz_window = quiz
    # the whole screen: the main window behind holds the boxes and the case text (decision 0143)
    screen = window.screen()
    if screen is not None:
        quiz.setGeometry(screen.availableGeometry())  # also where no window manager maximises
    quiz.showMaximized()
    quiz.activateWindow()
    return quiz


def start_presentation(window, full_screen: bool = True, ask=None):
    """The found cases (the whole list) from the selected one, full screen. Films that may show
    burned-in patient names are named first (`ask(text, details) -> bool`; a dialog by default)."""
    from desktop.ui.teaching.presentation import present

    if not _ready(window):
        return None
    panel = window.teaching
    ids = panel.visible_ids() or [c.id for c in panel.book.cases()]
    start = ids.index(panel.current_id()) if panel.current_id() in ids else 0
    if not _burned_in_ok(window, panel.book, ids, ask):
        return None
    window.presentation = present(window, panel.store, ids, start, full_screen=full_screen)
    return window.presentation


def burned_in_films(book, case_ids) -> list[tuple[str, str]]:
    """(file name, reason) of the films of these cases whose pixels may show a patient's name."""
    from desktop.core.phi import burned_in_warning_for

    found = []
    for case_id in case_ids:
        for path in book.image_paths(case_id):
            reason = burned_in_warning_for(path)
            if reason:
                found.append((path.name, reason))
    return found


def _burned_in_ok(window, book, ids, ask) -> bool:
    """Before anything is projected: say which films may show a patient's name burned into the
    pixels (Loupe cannot hide those), and let the educator stop."""
    films = burned_in_films(book, ids)
    if not films:
        return True
    if ask is None:
        from PySide6.QtWidgets import QMessageBox

        def ask(text, details):
            box = QMessageBox(QMessageBox.Warning, "Present these cases?", text, QMessageBox.NoButton, window)
            box.setDetailedText(details)
            present_button = box.addButton("Present Anyway", QMessageBox.AcceptRole)
            box.addButton(QMessageBox.Cancel)
            box.exec()
            return box.clickedButton() is present_button

    n = len(films)
    text = (f"{n} film{'s' if n != 1 else ''} of these cases may show the patient's name or ID in the pixels "
            "(burned-in text), which Loupe cannot hide. Check them before projecting them in a room.")
    return bool(ask(text, "\n".join(f"{name}: {reason}" for name, reason in films)))


def show_results(window):
    from desktop.ui.teaching.results_dialog import ResultsDialog

    panel = window.teaching
    if panel.store is None:
        window.notify("Open a folder first: quiz results are kept with its images")
        return None
    dialog = ResultsDialog(window, panel.store)
    window.results_dialog = dialog
    dialog.show()
    return dialog
