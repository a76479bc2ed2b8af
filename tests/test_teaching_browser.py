"""The teaching set's page in a real browser: headless Chromium opens index.html from the file
system (no server), a person's clicks, drags and keys go in through the DevTools protocol, and
the page's state is read back: nothing fetched from anywhere but the set's folder, answers hidden
until revealed, hostile case text shown as text, the quiz scored as Python scores it.
Skipped with the reason where no Chromium or Chrome is installed (tests/browser_helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.exchange.teaching_set import export_teaching_set
from desktop.core.store import open_store
from desktop.core.teaching import CaseBook, Mark, score_case
from tests.browser_helpers import SKIP_REASON, Browser, find_chromium
from tests.teaching_helpers import HOSTILE, phi_folder, planted_quiz_examples, python_score, same_score

pytestmark = pytest.mark.skipif(find_chromium() is None, reason=SKIP_REASON)
NODULE = (31.0, 21.0, 18.0, 18.0)  # the expert box on the CT (teaching_helpers.phi_folder)


@pytest.fixture(scope="module")
def teaching_set(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("teaching")
    films = phi_folder(root)
    with open_store(films) as store:
        book = CaseBook(store)
        ids = {r.rel_path: r.id for r in store.images()}
        ct = next(i for rel, i in ids.items() if rel.endswith("_CT.dcm"))
        png = next(i for rel, i in ids.items() if rel.endswith(".png"))
        us = next(i for rel, i in ids.items() if rel.endswith("US_0001.dcm"))
        book.create([ct, png], title="Solitary nodule", history="Smoker, 64, cough for three months.",
                    findings="A 9 mm nodule in the right upper lobe.", diagnosis="Lung carcinoma",
                    differential=["Granuloma", "Hamartoma"], keywords=["nodule"], difficulty=3)
        book.create([us], title="Liver", history="Right upper quadrant pain.", diagnosis="Hepatic cyst")
        book.create([png], title="Hostile", history=HOSTILE, discussion=HOSTILE, diagnosis="Normal")
        export_teaching_set(store, root / "set", title="Chest teaching set")
    return root / "set" / "index.html"


def frame_point(b: Browser, x: float, y: float, width: int = 128, height: int = 96) -> tuple[float, float]:
    """Screen position of image pixel (x, y) of the shown image."""
    r = b.rect("#frame")
    return r["x"] + x * r["width"] / width, r["y"] + y * r["height"] / height


def test_the_page_loads_from_the_file_system_and_fetches_nothing_else(teaching_set):
    with Browser(1280, 720) as b:
        b.open(teaching_set)
        b.pump()
        assert b.text("#case-count") == "Case 1 of 3" and b.text("#set-title") == "Chest teaching set"
        assert b.js("document.getElementById('picture').naturalWidth") == 128
        urls = b.requests()
        assert urls and all(u.startswith(teaching_set.parent.as_uri()) for u in urls), urls
        assert b.problems() == []  # no script error, no blocked resource, no CSP violation


def test_answers_stay_hidden_until_revealed(teaching_set):
    with Browser(1280, 720) as b:
        b.open(teaching_set)
        assert not b.visible("#answers") and b.js("document.querySelectorAll('#overlay .expert').length") == 0
        assert b.text("#case-title") == "Case 1"  # the title could give the diagnosis away
        assert "A 9 mm nodule" not in b.js("document.body.innerText")  # the findings: not on screen yet
        b.key("r")
        assert b.visible("#answers") and not b.visible("#reveal")
        assert b.js("document.querySelectorAll('#overlay .expert > rect').length") == 1
        rect = b.js("(() => { const r = document.querySelector('#overlay .expert > rect'); "
                    "return ['x','y','width','height'].map(k => Number(r.getAttribute(k))); })()")
        assert tuple(rect) == NODULE
        answers = b.text("#answer-body")
        assert "Lung carcinoma" in answers and "A 9 mm nodule in the right upper lobe." in answers
        assert b.text("#case-title") == "Case 1: Solitary nodule"
        b.key("b")  # boxes off, then on
        assert b.js("document.querySelectorAll('#overlay .expert').length") == 0
        b.key("b")
        assert b.js("document.querySelectorAll('#overlay .expert').length") == 1
        assert b.problems() == []


def test_hostile_case_text_shows_as_text(teaching_set):
    with Browser(1280, 720) as b:
        b.open(teaching_set)
        b.key("End")
        assert b.text("#case-count") == "Case 3 of 3"
        assert b.text("#history") == HOSTILE
        b.key("r")
        assert HOSTILE in b.text("#answer-body")
        assert b.js("typeof window.__pwned") == "undefined"
        assert b.js("document.querySelectorAll('#history *, #answer-body img, #answer-body script').length") == 0
        assert b.problems() == []


def test_a_learner_marks_a_box_picks_a_diagnosis_and_is_scored_as_python_scores(teaching_set):
    with Browser(1280, 720) as b:
        b.open(teaching_set)
        assert b.js("document.querySelector('#label-pick .on').textContent") == "Nodule"
        # a mark 2 px right of and below the expert box, drawn with the mouse
        b.drag(*frame_point(b, 33, 23), *frame_point(b, 51, 41))
        mark = b.js("(() => { const r = document.querySelector('#overlay .learner rect'); "
                    "return ['x','y','width','height'].map(k => Number(r.getAttribute(k))); })()")
        assert mark == pytest.approx([33, 23, 18, 18], abs=0.6)
        b.click("label.choice:has(input[value='Lung carcinoma'])")
        b.click("#check")
        expected = score_case([Mark("Nodule", *NODULE)], [Mark("Nodule", *mark)], "Lung carcinoma", "Lung carcinoma")
        assert expected.hits == 1 and 0.5 < expected.mean_iou < 0.8
        assert b.text("#score-boxes") == f"1 of 1 finding found · 0 false marks · mean IoU {expected.mean_iou:.2f}"
        assert b.text("#score-diagnosis") == "Diagnosis: right ✓"
        assert b.js("document.querySelector('#overlay .learner').classList.contains('hit')")
        assert b.visible("#answers")  # checking reveals the answers
        # the next case: a typed diagnosis that is wrong, and a false mark
        b.key("ArrowRight")
        assert b.text("#case-count") == "Case 2 of 3" and not b.visible("#answers")
        b.drag(*frame_point(b, 5, 5, 80, 64), *frame_point(b, 25, 25, 80, 64))
        b.click("#other")
        b.type_text("Haemangioma")
        b.key("Enter")
        assert b.text("#score-diagnosis") == "Diagnosis: not quite (you said “Haemangioma”)"
        assert b.text("#score-boxes").startswith("0 of 0 findings found · 1 false mark")
        assert b.js("document.querySelector('label.choice.right span').textContent") == "Hepatic cyst"
        assert b.text("#summary") == "Answered 2/3 · findings 1/1 · diagnoses 1/2"
        b.click("#results-button")
        assert b.visible("#results")
        rows = b.js("Array.from(document.querySelectorAll('#results tbody tr')).map(r => r.innerText.split('\\t'))")
        assert [r[-1].strip() for r in rows] == ["right", "wrong", "not answered"]
        assert b.problems() == []


def test_keys_step_through_cases_images_and_windows(teaching_set):
    with Browser(1280, 720) as b:
        b.open(teaching_set)
        src = "document.getElementById('picture').getAttribute('src')"
        assert b.js(src) == "images/case-001.png"
        b.key("w")
        assert b.js(src) == "images/case-001-w2.png"
        assert b.js("document.querySelector('#windows .on').textContent") == "Lung (C -600 / W 1500)"
        b.key("ArrowDown")
        assert b.js(src) == "images/case-001-2.png"  # the case's second image
        b.key("ArrowUp")
        assert b.js(src) == "images/case-001-w2.png"  # each image keeps its window
        b.key("ArrowRight")
        assert b.text("#case-count") == "Case 2 of 3"
        b.key("ArrowLeft")
        b.key("ArrowLeft")  # stays on the first
        assert b.text("#case-count") == "Case 1 of 3"
        b.key("?")
        assert b.visible("#keys")
        b.key("Escape")
        assert not b.visible("#keys")


def test_page_scoring_equals_python_in_chromium(teaching_set):
    examples = planted_quiz_examples()
    with Browser(800, 600) as b:
        b.open(teaching_set)
        js = json.loads(b.js("JSON.stringify(" + json.dumps(examples) + ".map(e => LoupeScore.scoreCase("
                             "e.expert, e.learner, e.dx_expected, e.dx_given)))"))
    for k, (example, score) in enumerate(zip(examples, js)):
        assert same_score(score, python_score(example)) == [], f"example {k}: {example}"


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_nothing_is_cut_off_at_the_usual_screen_sizes(teaching_set, size):
    with Browser(*size) as b:
        b.open(teaching_set)
        b.key("r")
        assert b.js("document.documentElement.scrollWidth <= innerWidth")
        frame, stage = b.rect("#frame"), b.rect("#stage")
        # the film fits the stage, centred, as large as it goes (filling one side, or at 4x its pixels)
        assert stage["x"] <= frame["x"] and frame["x"] + frame["width"] <= stage["x"] + stage["width"]
        assert stage["y"] <= frame["y"] and frame["y"] + frame["height"] <= stage["y"] + stage["height"]
        assert abs((frame["x"] - stage["x"]) - (stage["x"] + stage["width"] - frame["x"] - frame["width"])) <= 2
        assert frame["width"] == 128 * 4 or frame["width"] >= stage["width"] - 20 or frame["height"] >= stage["height"] - 20
        assert b.js("(() => { const p = document.querySelector('.panel'); return p.scrollWidth <= p.clientWidth; })()")
        # the header's three parts do not overlap
        left, mid, right = (b.rect(s) for s in (".brand", ".nav", ".tally"))
        assert left["x"] + left["width"] <= mid["x"] and mid["x"] + mid["width"] <= right["x"] + 1


def _pdf_pages(data: bytes) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


@pytest.mark.parametrize("with_answers", [False, True])
def test_the_printed_handout_has_a_page_per_case(teaching_set, with_answers):
    import base64

    with Browser(1280, 720) as b:
        b.open(teaching_set)
        b.click("#print-button")
        assert b.visible("#print-dialog")
        b.key("Escape")
        assert not b.visible("#print-dialog")
        b.js(f"LoupeTeaching.buildHandout({'true' if with_answers else 'false'}) && 0")
        b.wait_for("Array.from(document.querySelectorAll('#handout img')).every(i => i.complete && i.naturalWidth)")
        sections = b.js("Array.from(document.querySelectorAll('#handout .handout-case')).map(s => s.innerText)")
        assert len(sections) == 3
        assert ("Lung carcinoma" in sections[0]) is with_answers  # the diagnosis only with the answers
        assert "Smoker, 64, cough for three months." in sections[0]
        assert (b.js("document.querySelectorAll('#handout svg rect').length") == 1) is with_answers
        assert HOSTILE in sections[2] and b.js("typeof window.__pwned") == "undefined"
        pdf = base64.b64decode(b.call("Page.printToPDF", {"printBackground": False})["data"])
        assert pdf[:5] == b"%PDF-"
        assert _pdf_pages(pdf) == 3, "one page per case"
        assert b.problems() == []
