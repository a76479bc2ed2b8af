"""Screenshots of the teaching workflow in the real window, for the README and for looking at:
the Cases dock, a search, the quiz setup, a learner's answer, the reveal, the quiz summary, the
results, and presentation mode at each reveal step.

    Xvfb :15 -screen 0 1280x720x24 &
    DISPLAY=:15 .venv/bin/python tools/screenshot_teaching_window.py --size 1280x720 --out /tmp/shots
    (and again on a 1920x1080 screen with --size 1920x1080)

Builds a folder in a temporary directory from the four NIH ChestX-ray14 films in ../shared/data
with their published boxes, and gives them illustrative case text (written for the screenshot,
not the patients' histories). Each shot is the whole X screen (QScreen.grabWindow), so the quiz
and presentation windows are in it. --readme also copies the 1280x720 shots the README shows into
docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "nih"
BOXES = {"00000468_017.png": ("Atelectasis", (149.2, 518.8, 112.8, 45.6)),
         "00000211_016.png": ("Infiltrate", (237.3, 465.9, 230.8, 328.3)),
         "00000032_037.png": ("Infiltrate", (339.2, 119.2, 172.3, 351.1)),
         "00000150_002.png": ("Pneumonia", (601.4, 596.0, 215.6, 181.0))}
README_SHOTS = {"01-case-panel": "teaching-cases.png", "05-quiz-reveal": "quiz-reveal.png",
                "11-present-text": "presentation.png"}


def build_folder(folder: Path) -> None:
    from desktop.core.store import open_store
    from desktop.core.teaching import CaseBook

    folder.mkdir(parents=True, exist_ok=True)
    for name in BOXES:
        shutil.copy(DATA / "images" / name, folder / name)
    with open_store(folder) as s:
        ids = {}
        for name, (label, box) in BOXES.items():
            ids[name] = s.ensure_image(name, 1024, 1024)
            s.add_box(ids[name], label, *box)
        book = CaseBook(s)
        book.create([ids["00000150_002.png"]],
                    history="34-year-old woman, three days of fever and productive cough; crackles at the right base.",
                    findings="Patchy consolidation in the right lower zone with air bronchograms; no effusion.",
                    diagnosis="Right lower lobe pneumonia",
                    differential=["Aspiration", "Pulmonary infarct", "Lung carcinoma with post-obstructive change"],
                    keywords=["chest", "infection", "consolidation"], difficulty=2,
                    discussion="Lobar and segmental pneumonia: the silhouette sign and air bronchograms localise it.")
        book.create([ids["00000468_017.png"]], history="70-year-old man, day 2 after abdominal surgery, falling saturations.",
                    findings="Linear basal opacity.", diagnosis="Plate atelectasis", keywords=["chest", "post-operative"],
                    difficulty=3)
        book.create([ids["00000032_037.png"]], history="55-year-old, chronic cough.", findings="Right upper zone infiltrate.",
                    diagnosis="Tuberculosis", keywords=["chest", "infection"], difficulty=4)
        book.create([ids["00000211_016.png"]], history="Breathless, known lymphoma.", findings="Left mid and lower zone infiltrate.",
                    diagnosis="Drug-induced pneumonitis", keywords=["chest", "oncology"], difficulty=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "loupe-teaching-window"))
    parser.add_argument("--readme", action="store_true", help="copy the README's shots into docs/screenshots")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"the NIH films are not at {DATA}", file=sys.stderr)
        return 2
    width, height = (int(v) for v in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="loupe-teaching-shots-"))
    folder = tmp / "films"
    build_folder(folder)
    app = QApplication.instance() or QApplication(sys.argv)
    from desktop.ui import teaching
    from desktop.ui.main_window import MainWindow
    from desktop.ui.teaching.quiz_setup import QuizSetupDialog

    win = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.IniFormat))
    win.resize(width, height)
    win.move(0, 0)
    win.show()
    win.open_folder(folder)
    state = {}

    def shot(name: str) -> None:
        app.processEvents()
        app.primaryScreen().grabWindow(0).save(str(out / f"{name}.png"))

    def first_case():
        return win.teaching.book.cases()[0].id

    def panel():
        win.teaching.dock.show()
        win.teaching.dock.raise_()
        win.teaching.select_case(first_case())

    def search(text):
        win.teaching.search.setText(text)
        win.teaching.refresh_list()

    def setup():
        search("")
        state["setup"] = d = QuizSetupDialog(win.teaching)
        d.learner.setCurrentText("Ana Lima")
        d.show()

    def quiz():
        plan = state["setup"].plan()
        state["setup"].close()
        state["quiz"] = teaching.start_quiz(win, plan)  # maximised over the screen

    def answer():
        q = state["quiz"]
        q.label_pick.setCurrentIndex(q.label_pick.findData("Pneumonia"))
        q.view.add_mark((590, 610, 230, 160), "Pneumonia")
        q.view.add_mark((100, 200, 120, 100), "Pneumonia")
        q.diagnosis.setEditText("right lower lobe pneumonia")

    def finish():
        q = state["quiz"]
        while q.case is not None:
            if not q.submitted:
                q.submit()
            q.next_case()

    def results():
        state["quiz"].close()
        state["results"] = teaching.show_results(win)

    def present():
        state["results"].close()
        win.teaching.select_case(first_case())
        state["show"] = teaching.start_presentation(win)

    steps = [(2500, panel), (1500, lambda: shot("01-case-panel")), (300, lambda: search("infection")),
             (800, lambda: shot("02-search")), (300, setup), (800, lambda: shot("03-quiz-setup")), (300, quiz),
             (1200, answer), (600, lambda: shot("04-quiz-answer")), (300, lambda: state["quiz"].submit()),
             (800, lambda: shot("05-quiz-reveal")), (300, finish), (800, lambda: shot("06-quiz-finished")),
             (300, results), (800, lambda: shot("07-results")), (300, present), (1000, lambda: shot("08-present-film")),
             (200, lambda: state["show"].next_step()), (800, lambda: shot("09-present-boxes")),
             (200, lambda: state["show"].next_step()), (800, lambda: shot("10-present-labels")),
             (200, lambda: state["show"].next_step()), (800, lambda: shot("11-present-text")),
             (200, lambda: (state["show"].close(), app.quit()))]

    def run(i: int = 0) -> None:  # one after the other: a slow step never reorders the shots
        if i < len(steps):
            delay, step = steps[i]
            QTimer.singleShot(delay, lambda: (step(), run(i + 1)))

    run()
    app.exec()
    shutil.rmtree(tmp, ignore_errors=True)
    if args.readme:
        for name, target in README_SHOTS.items():
            if (out / f"{name}.png").exists():
                shutil.copy(out / f"{name}.png", ROOT / "docs" / "screenshots" / target)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
