"""The teaching set export (`loupe export --format teaching`): no patient data in any byte it
writes, burned-in images listed and left out on request, the chosen window rendered as DICOM
defines it, case text embedded so it can only be text, and the page's scoring equal to Python's
(under Node where it is installed; tests/test_teaching_browser.py runs it in Chromium)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.cli import main
from desktop.core.exchange.errors import ExchangeError
from desktop.core.exchange.teaching_set import burned_in_images, export_teaching_set
from desktop.core.store import open_store
from desktop.core.teaching import CaseBook
from tests.teaching_helpers import (
    HOSTILE,
    PLANTED,
    phi_folder,
    planted_quiz_examples,
    png_chunks,
    python_score,
    same_score,
)

ROOT = Path(__file__).resolve().parent.parent


def page_data(index: Path) -> dict:
    """The data the page holds, read back from its <script type="application/json"> element."""
    text = index.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="teaching-data">(.*?)</script>', text, re.S)
    assert m, "no data element in the page"
    return json.loads(m.group(1))


def every_output_byte(out: Path, zip_path: Path | None) -> dict[str, bytes]:
    """name -> bytes of every file written: the folder's, the zip as it is, and each zip member
    decompressed (a deflated name would not show in the zip's own bytes)."""
    blobs = {str(p.relative_to(out.parent)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    if zip_path is not None:
        blobs[zip_path.name] = zip_path.read_bytes()
        with zipfile.ZipFile(zip_path) as z:
            for info in z.infolist():
                blobs[f"{zip_path.name}!{info.filename}"] = z.read(info)
    return blobs


@pytest.fixture
def films(tmp_path) -> Path:
    return phi_folder(tmp_path)


def test_no_planted_patient_data_in_any_output_byte(films, tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["export", str(films), "--format", "teaching", "--out", str(out), "--zip"]) == 0
    said = capsys.readouterr().out
    assert "3 image(s)" in said and "wrote" in said
    zip_path = tmp_path / "set.zip"
    blobs = every_output_byte(out, zip_path)
    assert {"set/index.html", "set/manifest.json", "set/images/case-001.png", "set.zip"} <= set(blobs)
    for name, data in blobs.items():
        for what, planted in PLANTED.items():
            for needle in {planted, planted.replace("^", " "), planted.upper()}:
                assert needle.encode() not in data, f"{what} ({needle}) found in {name}"
                assert needle.encode("utf-16-le") not in data, f"{what} (UTF-16) found in {name}"
                assert needle not in name, f"{what} in the file name {name}"
    # names are the case numbers, never the source's
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        "case-001.png", "case-002-w2.png", "case-002-w3.png", "case-002-w4.png", "case-002.png", "case-003.png"]
    # every PNG holds pixels only: no text, time or other ancillary chunk, nothing in PIL's info
    for png in (out / "images").iterdir():
        data = png.read_bytes()
        chunks = png_chunks(data)
        assert chunks[0] == "IHDR" and chunks[-1] == "IEND" and set(chunks[1:-1]) == {"IDAT"}, png.name
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            assert im.info == {} and getattr(im, "text", {}) == {}, png.name
    # the mapping back to the sources stays beside the store (decision 0119), never in the set
    mapping = (films / ".loupe" / "export-names.csv").read_text(encoding="utf-8")
    assert "case-002.png" in mapping and PLANTED["folder name"] in mapping


def test_keep_paths_writes_the_sources_in_the_manifest_only(films, tmp_path):
    out = tmp_path / "set"
    assert main(["export", str(films), "--format", "teaching", "--out", str(out), "--keep-paths"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    sources = [im["source"] for case in manifest["cases"] for im in case["images"]]
    assert any(PLANTED["folder name"] in s for s in sources) and manifest["source_paths"] is True
    page = (out / "index.html").read_bytes()
    assert PLANTED["folder name"].encode() not in page and PLANTED["family name"].encode() not in page


def test_burned_in_images_are_listed_first_and_left_out_on_request(films, tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["export", str(films), "--format", "teaching", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "1 image(s) may show the patient's name or ID in their pixels" in said
    assert "US_0001.dcm" in said and "modality US (ultrasound)" in said and "--leave-out-burned-in" in said
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    flagged = [im for c in manifest["cases"] for im in c["images"] if "burned_in_text" in im]
    assert [im["file"] for im in flagged] == ["images/case-003.png"]

    assert main(["export", str(films), "--format", "teaching", "--out", str(out), "--leave-out-burned-in"]) == 0
    said = capsys.readouterr().out
    assert "left out (--leave-out-burned-in)" in said and "2 case(s), 2 image(s)" in said
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [c["case"] for c in manifest["cases"]] == ["case-001", "case-002"]
    assert manifest["left_out"] == [{"case_id": None, "case_number": 3, "image": 1,
                                     "reason": "modality US (ultrasound) often has burned-in text"}]
    assert not (out / "images" / "case-003.png").exists()  # the earlier export's copy went with it
    assert len(page_data(out / "index.html")["cases"]) == 2


def _dicom_window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1, written out: the linear VOI function to 0..255."""
    lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    y = ((hu - (center - 0.5)) / (width - 1) + 0.5) * 255
    return np.where(hu <= lo, 0, np.where(hu > hi, 255, y))


@pytest.mark.parametrize("window, expect", [(None, (40, 400)), ("lung", (-600, 1500)), ("-500,1000", (-500, 1000))])
def test_the_chosen_window_is_rendered_as_dicom_defines_it(films, tmp_path, window, expect):
    import pydicom

    ct = next(films.rglob("*_CT.dcm"))
    ds = pydicom.dcmread(ct)
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    with open_store(films) as store:
        result = export_teaching_set(store, tmp_path / "set", window=window)
    assert result.cases == 3
    got = np.asarray(Image.open(tmp_path / "set" / "images" / "case-002.png"))
    assert got.shape == hu.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - _dicom_window(hu, *expect)).max() <= 1
    variants = page_data(tmp_path / "set" / "index.html")["cases"][1]["images"][0]["windows"]
    names = [v["name"] for v in variants]
    # the file's two presets and the CT windows are offered, once each, the chosen one first
    assert names[0].endswith(f"(C {expect[0]:g} / W {expect[1]:g})")
    assert {"Mediastinum (C 40 / W 400)", "Lung (C -600 / W 1500)", "Bone (C 400 / W 1800)"} <= set(names)
    assert len(names) == len(set(names))


def test_a_bad_window_names_the_option(films, tmp_path):
    with open_store(films) as store, pytest.raises(ExchangeError, match="--window must be CENTER,WIDTH"):
        export_teaching_set(store, tmp_path / "set", window="wide")


def test_case_text_is_embedded_as_data_that_cannot_close_its_element(films, tmp_path):
    with open_store(films) as store:
        export_teaching_set(store, tmp_path / "set", title="Chest <b>nights</b> & \"days\"")
    html = (tmp_path / "set" / "index.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "<script>window.__pwned" not in html
    data_text = html.split('id="teaching-data">')[1].split("</script>")[0]
    assert "<" not in data_text and ">" not in data_text and "&" not in data_text
    data = page_data(tmp_path / "set" / "index.html")
    assert data["cases"][0]["fields"]["findings"] == HOSTILE  # the caption, unchanged as data
    assert "<title>Chest &lt;b&gt;nights&lt;/b&gt; &amp; &quot;days&quot;</title>" in html
    assert data["title"] == "Chest <b>nights</b> & \"days\""
    # no script, style or font from anywhere else
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=", html)
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html


def _cases_folder(films: Path) -> dict[str, int]:
    with open_store(films) as store:
        book = CaseBook(store)
        ids = {rel: store.image_id(rel) for rel in (r.rel_path for r in store.images())}
        ct = next(i for rel, i in ids.items() if rel.endswith("_CT.dcm"))
        png = next(i for rel, i in ids.items() if rel.endswith(".png"))
        us = next(i for rel, i in ids.items() if rel.endswith("US_0001.dcm"))
        return {
            "nodule": book.create([ct, png], title="Solitary nodule", history="Smoker, 64, cough.",
                                  findings="A 9 mm nodule in the right upper lobe.", diagnosis="Lung carcinoma",
                                  discussion="Spiculated margins.\n\nCompare with old films.",
                                  differential=["Granuloma", "Hamartoma"], keywords=["nodule", "CT"], difficulty=3),
            "liver": book.create([us], title="Liver", diagnosis="Hepatic cyst", difficulty=1),
            "empty": book.create([png], title="No text"),
        }


def test_cases_export_their_fields_images_boxes_and_choices(films, tmp_path):
    keys = _cases_folder(films)
    with open_store(films) as store:
        result = export_teaching_set(store, tmp_path / "set", case_ids=[keys["nodule"], keys["liver"]])
    assert (result.cases, result.images) == (2, 3)
    data = page_data(tmp_path / "set" / "index.html")
    nodule, liver = data["cases"]
    assert nodule["title"] == "Solitary nodule"
    assert nodule["fields"] == {"history": "Smoker, 64, cough.", "findings": "A 9 mm nodule in the right upper lobe.",
                                "diagnosis": "Lung carcinoma", "discussion": "Spiculated margins.\n\nCompare with old films.",
                                "differential": ["Granuloma", "Hamartoma"], "keywords": ["nodule", "CT"],
                                "difficulty": "Medium"}
    assert [im["windows"][0]["src"] for im in nodule["images"]] == ["images/case-001.png", "images/case-001-2.png"]
    assert nodule["boxes"] == [{"label": "Nodule", "x": 31.0, "y": 21.0, "w": 18.0, "h": 18.0, "image": 0}]
    assert sorted(nodule["choices"]) == ["Hepatic cyst", "Lung carcinoma"]  # its own and the other case's
    assert liver["fields"]["difficulty"] == "Very easy" and liver["boxes"] == []
    assert data["labels"] == [{"name": "Nodule", "color": data["labels"][0]["color"]}]
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))
    assert [c["case_id"] for c in manifest["cases"]] == [keys["nodule"], keys["liver"]]
    assert manifest["cases"][0]["images"][0]["windows"][0] == {
        "name": "Mediastinum (C 40 / W 400)", "center": 40.0, "width": 400.0, "file": "images/case-001.png"}


def test_cases_with_burned_in_images_say_which_case(films, tmp_path):
    keys = _cases_folder(films)
    with open_store(films) as store:
        flagged = burned_in_images(store)
        assert [(b.case_key, b.image_number) for b in flagged] == [(keys["liver"], 1)]
        assert flagged[0].line().startswith(f"case {keys['liver']}, image 1 (")
        result = export_teaching_set(store, tmp_path / "set", leave_out_burned_in=True)
    assert result.cases == 2 and [b.case_key for b in result.left_out] == [keys["liver"]]


def test_unknown_case_ids_and_unusable_folders_get_a_message(films, tmp_path):
    keys = _cases_folder(films)
    with open_store(films) as store:
        with pytest.raises(ExchangeError, match=r"no teaching case 999 \(the cases are "):
            export_teaching_set(store, tmp_path / "set", case_ids=[keys["nodule"], 999])
        with pytest.raises(ExchangeError, match="must go outside the image folder"):
            export_teaching_set(store, films / "set")
        busy = tmp_path / "busy"
        busy.mkdir()
        (busy / "thesis.docx").write_text("mine")
        with pytest.raises(ExchangeError, match="not empty and holds no earlier teaching set"):
            export_teaching_set(store, busy)
        assert (busy / "thesis.docx").read_text() == "mine"
    assert not any(p.name.startswith(".set.") for p in tmp_path.iterdir())  # no half-written folder left


def test_cases_option_in_the_cli(films, tmp_path, capsys):
    keys = _cases_folder(films)
    out = tmp_path / "set"
    assert main(["export", str(films), "--format", "teaching", "--out", str(out), "--cases",
                 f"{keys['liver']}-{keys['empty']}", "--title", "Abdomen", "--no-quiz"]) == 0
    data = page_data(out / "index.html")
    assert [c["title"] for c in data["cases"]] == ["Liver", "No text"]
    assert data["title"] == "Abdomen" and data["quiz"] is False
    assert main(["export", str(films), "--format", "teaching", "--out", str(out), "--cases", "one"]) == 2
    assert "--cases must be case ids like 1,4,7-9" in capsys.readouterr().err


def test_page_assets_hold_no_external_reference():
    for name in ("index.html", "teaching.css", "teaching.js", "quiz_score.js"):
        text = (ROOT / "resources" / "teaching" / name).read_text(encoding="utf-8")
        for pattern in (r"https?://(?!www\.w3\.org/2000/svg)", r"@import", r"url\(", r"fetch\(", r"XMLHttpRequest",
                        r"\.innerHTML\s*=", r"insertAdjacentHTML", r"document\.write"):
            assert not re.search(pattern, text), f"{name}: {pattern}"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (the browser test covers the "
                                                          "page's scoring in Chromium)")
def test_page_scoring_equals_python_under_node(tmp_path):
    examples = planted_quiz_examples()
    (tmp_path / "examples.json").write_text(json.dumps(examples))
    script = ("const s = require(process.argv[1]); const ex = require(process.argv[2]);"
              "console.log(JSON.stringify(ex.map(e => s.scoreCase(e.expert, e.learner, e.dx_expected, e.dx_given))));")
    run = subprocess.run(["node", "-e", script, str(ROOT / "resources" / "teaching" / "quiz_score.js"),
                          str(tmp_path / "examples.json")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    js = json.loads(run.stdout)
    for k, (example, score) in enumerate(zip(examples, js)):
        assert same_score(score, python_score(example)) == [], f"example {k}: {example}"
    # the hand-worked ones, as decision 0141 works them out
    assert (js[0]["hits"], js[0]["mean_iou"]) == (2, pytest.approx(2 / 3))
    assert (js[1]["hits"], js[1]["misses"], js[1]["false_marks"], js[1]["diagnosis_correct"]) == (3, 1, 2, True)
    assert (js[2]["hits"], js[2]["diagnosis_correct"]) == (0, False)
    assert (js[3]["hits"], js[3]["mean_iou"], js[3]["diagnosis_correct"]) == (1, pytest.approx(0.5), True)


@pytest.mark.shared_data
def test_real_films_render_as_pydicom_shows_them(shared_data, tmp_path):
    """The public DICOMs (CR MONOCHROME1 JPEG 2000, CT, MR, RGB ultrasound, JPEG baseline CR) and
    a ChestX-ray14 PNG, exported in their own windows: each PNG equals pydicom's rendering; a film
    larger than --max-side is scaled down with its boxes kept in film pixels."""
    from tests.imaging_helpers import pydicom_display_reference

    folder = tmp_path / "films"
    folder.mkdir()
    names = ["RG1_J2KI.dcm", "693_UNCR.dcm", "MR2_UNCR.dcm", "US1_UNCR.dcm", "siim_cr_chest_monochrome1.dcm"]
    for name in names:
        shutil.copyfile(shared_data / "dicom" / name, folder / name)
    shutil.copyfile(shared_data / "nih" / "images" / "00000150_002.png", folder / "nih.png")
    with open_store(folder) as store:
        nih = store.ensure_image("nih.png", 1024, 1024)
        store.add_box(nih, "Pneumonia", 601.4, 596.0, 215.6, 181.0)
        result = export_teaching_set(store, tmp_path / "set", max_side=1024)
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))
    by_file = {im["file"]: im for c in manifest["cases"] for im in c["images"]}
    order = sorted([*names, "nih.png"], key=str.lower)  # the folder's natural order
    assert result.cases == len(order)
    for k, name in enumerate(order, start=1):
        png = np.asarray(Image.open(tmp_path / "set" / "images" / f"case-{k:03d}.png"))
        entry = by_file[f"images/case-{k:03d}.png"]
        if name == "nih.png":
            assert np.array_equal(png, np.asarray(Image.open(folder / name).convert("L")))
            continue
        if name == "US1_UNCR.dcm":  # colour, shown as stored (RGB in the PNG, not OpenCV's BGR)
            import pydicom

            assert entry["burned_in_text"].startswith("modality US")
            assert np.array_equal(png, pydicom.dcmread(folder / name).pixel_array[..., :3])
            continue
        ref = pydicom_display_reference(folder / name)
        if "png_size" in entry:  # RG1 (1955 x 1841) and MR2 (1024 x 1024 fits): scaled to 1024
            assert name == "RG1_J2KI.dcm" and max(entry["png_size"]) == 1024 and max(png.shape) == 1024
            assert (entry["width"], entry["height"]) == (ref.shape[1], ref.shape[0])
            import cv2

            ref = cv2.resize(ref, (png.shape[1], png.shape[0]), interpolation=cv2.INTER_AREA)
            assert np.abs(png.astype(int) - ref).mean() < 1.0, name
        else:
            assert png.shape == ref.shape and np.abs(png.astype(int) - ref).max() <= 1, name
    data = page_data(tmp_path / "set" / "index.html")
    nih_case = next(c for c in data["cases"] if c["boxes"])
    assert nih_case["images"][0]["width"] == 1024 and nih_case["boxes"][0]["x"] == pytest.approx(601.4)


def test_the_educator_chooses_the_labels_to_mark_with(films, tmp_path):
    with open_store(films) as store:
        export_teaching_set(store, tmp_path / "default")
        export_teaching_set(store, tmp_path / "chosen", labels=["Effusion", " Nodule", "Mass", "Nodule"])
        colours = {c.name: c.color for c in store.categories()}
    assert page_data(tmp_path / "default" / "index.html")["labels"] == [{"name": "Nodule", "color": colours["Nodule"]}]
    # in the educator's order, once each, the folder's colours; Mass is new to the folder
    assert page_data(tmp_path / "chosen" / "index.html")["labels"] == [
        {"name": "Effusion", "color": colours["Effusion"]}, {"name": "Nodule", "color": colours["Nodule"]},
        {"name": "Mass", "color": "#56B4E9"}]


def test_a_damaged_film_is_left_out_with_its_reason_and_the_rest_exported(films, tmp_path, capsys):
    ct = next(films.rglob("*_CT.dcm"))
    ct.write_bytes(ct.read_bytes()[:2000])  # cut short inside the pixel data
    out = tmp_path / "set"
    assert main(["export", str(films), "--format", "teaching", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "2 case(s), 2 image(s)" in captured.out
    assert "left out: image 2 of the folder (" in captured.err and "_CT.dcm): cannot be read:" in captured.err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [c["case"] for c in manifest["cases"]] == ["case-001", "case-002"]
    assert manifest["left_out"][0]["case_number"] == 2 and manifest["left_out"][0]["reason"].startswith("cannot be read")
    assert PLANTED["family name"] not in json.dumps(manifest)  # the reason names no file
    assert sorted(p.name for p in (out / "images").iterdir()) == ["case-001.png", "case-002.png"]


def test_an_output_folder_that_cannot_be_written_is_a_message(films, tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with open_store(films) as store, pytest.raises(ExchangeError) as err:
        export_teaching_set(store, tmp_path / "notes.txt" / "term" / "set")
    assert "cannot write the teaching set: a file stands where a folder is needed" in str(err.value)
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"


@pytest.mark.timeout(300)
def test_every_bad_film_of_the_corpus_is_left_out_with_its_reason(tmp_path):
    """The bad images of tests/bad_input_corpus.py in one folder beside a good film: the set is
    made, each refused film is left out with the reason read_image gives it, the ones the viewer
    shows with a note are exported, and nothing ends in a traceback."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from bad_input_corpus import build_corpus

    from desktop.core.exchange.teaching_set.cases import load_cases

    kinds = [k for k in build_corpus(tmp_path / "corpus") if k.entry == "image" and k.path.is_file()]
    folder = tmp_path / "films"
    folder.mkdir()
    expected = {}
    for i, kind in enumerate(kinds):
        name = f"{i:03d}{kind.path.suffix}"
        shutil.copyfile(kind.path, folder / name)
        expected[name] = kind
    Image.fromarray(np.full((40, 50), 128, np.uint8)).save(folder / "999_good.png")
    with open_store(folder) as store:
        listed = {c.images[0].rel_path for c in load_cases(store)}
        result = export_teaching_set(store, tmp_path / "set")
    refused = {b.rel_path: b.reason for b in result.unreadable}
    exported = result.images
    problems = []
    for name, kind in expected.items():
        if name not in listed:
            continue  # not listed as an image at all (e.g. no image suffix and no DICOM marker)
        if kind.opens:
            if name in refused:
                problems.append(f"{kind.name}: refused ({refused[name]}) but the viewer shows it")
        elif name not in refused:
            problems.append(f"{kind.name}: exported, but read_image refuses it")
        elif kind.reason.lower() not in refused[name].lower():
            problems.append(f"{kind.name}: reason {refused[name]!r} lacks {kind.reason!r}")
    assert problems == [] and len(refused) >= 20
    assert exported == len(listed) - len(refused) and "999_good.png" not in refused
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["left_out"]) == len(refused) and all("source" not in e for e in manifest["left_out"])
