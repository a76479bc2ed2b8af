"""A corpus of bad input, each kind with the entry point it goes through and the reason a user must
be told (issue 14, part 5). `build_corpus(root)` writes every kind under `root` and returns them.

Entry points: "image" (read_image, then display when it opens), "import" (`loupe import`, with
`fmt`), "weights" (`load_model`), "folder" (the window's folder open). An image kind with
`opens=True` is shown, with `reason` among its facts, instead of being refused. `payload` is a file
that exists only if a pickle payload ran.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from imaging_helpers import apng_declaring, dicom_dataset, small_dicom, tiff_of_pages, write_bad_inputs


@dataclass
class Kind:
    name: str
    entry: str  # "image" | "import" | "weights" | "folder"
    path: Path
    reason: str  # what the message must say (compared case-insensitively)
    fmt: str | None = None  # import format
    opens: bool = False  # an image shown with a note rather than refused
    payload: Path | None = None  # created only if a pickle payload ran
    names: str | None = None  # the name the message must contain (default: the file's name)


# -- images ----------------------------------------------------------------------------------------
_ISSUE_2 = {  # write_bad_inputs' kinds, with the reasons test_imaging_bad_input checks
    "empty": "empty", "empty_dcm": "empty", "truncated_dcm": "truncated", "truncated_header_dcm": "truncated",
    "truncated_png": "truncated", "random_dcm": "not a DICOM file", "random_png": "not an image",
    "no_pixels_dcm": "no pixel data", "unsupported_syntax_dcm": "unsupported transfer syntax",
    "bomb_png": "decompression bomb", "bomb_dcm": "decompression bomb",
}


def _png_chunks(*chunks: tuple[bytes, bytes]) -> bytes:
    out = b"\x89PNG\r\n\x1a\n"
    for kind, data in chunks:
        out += struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return out


def _images(root: Path) -> list[Kind]:
    d = root / "images"
    d.mkdir(parents=True)
    kinds = [Kind(f"image:{k}", "image", p, _ISSUE_2[k]) for k, p in write_bad_inputs(root / "issue2").items()]

    def add(name, filename, data, reason, opens=False):
        path = d / filename
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)
        kinds.append(Kind(f"image:{name}", "image", path, reason, opens=opens))

    add("tiff_200000_pages", "pages.tif", lambda p: tiff_of_pages(p, 200_000), "more than 1,000 pages")
    loop = bytearray(tiff_of_pages(d / "_loop_src.tif", 3).read_bytes())
    (d / "_loop_src.tif").unlink()
    last_next = 8 + 2 * (2 + 12 * 9 + 4 + 2) + 2 + 12 * 9  # the third page's next-IFD offset
    loop[last_next:last_next + 4] = struct.pack("<I", 8)  # ... points back to the first page
    add("tiff_ifd_loop", "loop.tif", bytes(loop), "more than 1,000 pages")
    add("apng_2_31_frames", "anim.png", lambda p: apng_declaring(p, 2**31), "declares 2,147,483,648 frames")
    add("apng_5000_frames", "anim5000.png", lambda p: apng_declaring(p, 5000), "declares 5,000 frames")
    add("png_zero_width", "zero.png", _png_chunks((b"IHDR", struct.pack(">IIBBBBB", 0, 8, 8, 0, 0, 0, 0)),
                                                   (b"IEND", b"")), "not an image")
    add("png_no_idat", "noidat.png", _png_chunks((b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)),
                                                  (b"IEND", b"")), "cannot be decoded")
    add("jpeg_header_only", "cut.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        "not an image")
    add("bmp_bomb", "huge.bmp", b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + struct.pack(
        "<IiiHHIIiiII", 40, 200_000, 200_000, 1, 24, 0, 0, 2835, 2835, 0, 0) + b"\x00" * 16, "decompression bomb")
    add("tiff_bomb", "huge.tif", _tiff_declaring(60_000, 60_000), "decompression bomb")
    add("webp_garbage", "x.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + os.urandom(8), "cannot")
    add("text_as_png", "notes.png", b"these are notes, not a film\n" * 20, "not an image")
    add("png_as_dcm", "film.dcm", _png_chunks((b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)),
                                              (b"IDAT", zlib.compress(b"\x00" * 72)), (b"IEND", b"")),
        "not a DICOM file")
    (d / "folder.png").mkdir()
    kinds.append(Kind("image:directory_named_png", "image", d / "folder.png", "not a file"))
    os.symlink(d / "gone.png", d / "dangling.png")
    kinds.append(Kind("image:dangling_link", "image", d / "dangling.png", "file not found"))
    add("dicom_nan_window", "nan_window.dcm", lambda p: small_dicom(p, WindowCenter=float("nan"),
                                                                     WindowWidth=float("nan")),
        "WindowCenter = nan", opens=True)
    add("dicom_inf_rescale", "inf_rescale.dcm", lambda p: small_dicom(p, RescaleSlope=float("inf"),
                                                                       RescaleIntercept=0),
        "RescaleSlope = inf", opens=True)
    add("dicom_text_window", "text_window.dcm", lambda p: _dicom_text_window(p), "WindowCenter = [40.0, nan]",
        opens=True)
    add("dicom_short_pixels", "short.dcm", lambda p: _dicom_short_pixels(p), "cannot be decoded")
    add("dicom_zero_rows", "zero_rows.dcm", lambda p: _dicom_zero_rows(p), "cannot")
    add("dicom_frames_bomb", "frames.dcm", lambda p: _dicom_frames_bomb(p), "decompression bomb")
    add("dicom_burned_in", "burned.dcm", lambda p: small_dicom(p, BurnedInAnnotation="YES"),
        "Burned In Annotation = YES", opens=True)
    return kinds


def _tiff_declaring(width: int, height: int) -> bytes:
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8 + 2 + 12 * 8 + 4),
               (278, 4, height), (279, 4, 16)]
    body = struct.pack("<H", len(entries))
    for tag, typ, val in entries:
        body += struct.pack("<HHIHH", tag, typ, 1, val, 0) if typ == 3 else struct.pack("<HHII", tag, typ, 1, val)
    return b"II*\x00" + struct.pack("<I", 8) + body + struct.pack("<I", 0) + b"\x00" * 16


def _grey(ds, rows=8, cols=8):
    ds.Modality = "CT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    return ds


def _dicom_text_window(path: Path) -> None:
    small_dicom(path)
    import pydicom

    ds = pydicom.dcmread(path)
    ds.WindowCenter, ds.WindowWidth = [40, float("nan")], [400, 80]  # one good preset, one NaN
    ds.save_as(path)


def _dicom_short_pixels(path: Path) -> None:
    ds = _grey(dicom_dataset("1.2.840.10008.5.1.4.1.1.2"), 512, 512)
    ds.PixelData = b"\x00" * 100
    ds.save_as(path, enforce_file_format=True)


def _dicom_zero_rows(path: Path) -> None:
    ds = _grey(dicom_dataset("1.2.840.10008.5.1.4.1.1.2"), 0, 8)
    ds.PixelData = b""
    ds.save_as(path, enforce_file_format=True)


def _dicom_frames_bomb(path: Path) -> None:
    ds = _grey(dicom_dataset("1.2.840.10008.5.1.4.1.1.2"), 512, 512)
    ds.NumberOfFrames = 1_000_000
    ds.PixelData = b"\x00" * 64
    ds.save_as(path, enforce_file_format=True)


# -- imports ---------------------------------------------------------------------------------------
def _coco(images=None, cats=None, anns=None):
    return {"images": images if images is not None else [{"id": 1, "file_name": "a.png", "width": 50, "height": 40}],
            "categories": cats if cats is not None else [{"id": 1, "name": "heart"}],
            "annotations": anns if anns is not None else [{"id": 1, "image_id": 1, "category_id": 1,
                                                           "bbox": [1, 1, 5, 5]}]}


def _ann(**kw):
    return [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], **kw}]


def _imports(root: Path) -> list[Kind]:
    d = root / "imports"
    d.mkdir(parents=True)
    (root / "outside.png").write_bytes(b"")  # another patient's film, beside the folder
    kinds: list[Kind] = []

    def add(name, fmt, filename, content, reason, names=None):
        path = d / name.replace(":", "_") / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content), encoding="utf-8")
        kinds.append(Kind(f"import:{name}", "import", path, reason, fmt=fmt, names=names))
        return path

    coco = "coco"
    add("coco_bad_json", coco, "a.json", '{"images": [,]}', "bad JSON")
    add("coco_deep_nesting", coco, "a.json", "[" * 200_000 + "]" * 200_000, "nested too deeply")
    add("coco_empty_file", coco, "a.json", "", "bad JSON")
    add("coco_top_level_list", coco, "a.json", [], "not a COCO file")
    add("coco_missing_lists", coco, "a.json", {"images": []}, "needs lists")
    add("coco_list_image_id", coco, "a.json", _coco(images=[{"id": [1], "file_name": "a.png"}]),
        "id must be a number or a string")
    add("coco_dict_category_id", coco, "a.json", _coco(cats=[{"id": {"a": 1}, "name": "x"}]),
        "id must be a number or a string")
    add("coco_list_annotation_ids", coco, "a.json", _coco(anns=_ann(image_id=[1])), "unknown image id [1]")
    add("coco_bool_category_id", coco, "a.json", _coco(anns=_ann(category_id=True)), "unknown category id True")
    add("coco_duplicate_image_ids", coco, "a.json", _coco(images=[{"id": 1, "file_name": "a.png"},
                                                                 {"id": 1, "file_name": "b.png"}]),
        "duplicate image id 1")
    add("coco_duplicate_category_ids", coco, "a.json", _coco(cats=[{"id": 1, "name": "heart"},
                                                                  {"id": 1, "name": "lung"}]),
        "duplicate category id 1")
    add("coco_dotdot_path", coco, "a.json", _coco(images=[{"id": 1, "file_name": "../outside.png"}]),
        "climbs out of the image folder")
    add("coco_absolute_path", coco, "a.json", _coco(images=[{"id": 1, "file_name": str(root / "outside.png")}]),
        "is an absolute path")
    add("coco_windows_path", coco, "a.json", _coco(images=[{"id": 1, "file_name": "C:\\films\\a.png"}]),
        "is an absolute path")
    add("coco_link_outside", coco, "a.json", _coco(images=[{"id": 1, "file_name": "link.png"}]),
        "outside the image folder")  # the test places link.png -> ../outside.png in the folder
    add("coco_nul_in_label", coco, "a.json", _coco(cats=[{"id": 1, "name": "heart\x00lung"}]), "control characters")
    add("coco_escape_in_label", coco, "a.json", _coco(cats=[{"id": 1, "name": "\x1b[2Jheart"}]), "control characters")
    add("coco_nul_in_file_name", coco, "a.json", _coco(images=[{"id": 1, "file_name": "a\x00.png"}]),
        "control characters")
    add("coco_non_utf8_file_name", coco, "a.json", '{"images": [{"id": 1, "file_name": "\\udcff\\udcfea.png"}], '
        '"categories": [{"id": 1, "name": "x"}], "annotations": []}', "not valid UTF-8")
    add("coco_infinite_bbox", coco, "a.json", '{"images": [{"id": 1, "file_name": "a.png"}], "categories": '
        '[{"id": 1, "name": "x"}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, '
        '"bbox": [1, 1, Infinity, 5]}]}', "not four finite numbers")
    add("coco_nan_bbox", coco, "a.json", '{"images": [{"id": 1, "file_name": "a.png"}], "categories": '
        '[{"id": 1, "name": "x"}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, '
        '"bbox": [NaN, 1, 2, 5]}]}', "not four finite numbers")
    add("coco_huge_number_bbox", coco, "a.json", '{"images": [{"id": 1, "file_name": "a.png"}], "categories": '
        '[{"id": 1, "name": "x"}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, '
        '"bbox": [1e400, 1, 2, 5]}]}', "not four finite numbers")
    add("coco_string_bbox", coco, "a.json", _coco(anns=_ann(bbox=["1", "1", "5", "5"])), "bbox must be")
    add("coco_box_outside", coco, "a.json", _coco(anns=_ann(bbox=[45, 5, 20, 5])), "box outside the image")
    add("coco_latin1_file", coco, "a.json", '{"images": [{"id": 1, "file_name": "café.png"}]}'.encode("latin-1"),
        "cannot read")
    add("coco_unknown_image", coco, "a.json", _coco(images=[{"id": 1, "file_name": "missing.png"}]), "unknown image")
    add("results_deep_nesting", "coco-results", "r.json", "[" * 200_000 + "]" * 200_000, "nested too deeply")
    add("results_not_a_list", "coco-results", "r.json", {"a": 1}, "not a COCO results file")
    add("results_list_ids", "coco-results", "r.json", [{"image_id": [1], "category_id": 1, "bbox": [1, 1, 2, 2],
                                                       "score": 0.5}], "unknown image id [1]")

    nih = "nih-csv"
    header = "Image Index,Finding Label,Bbox [x,y,w,h],,,\n"
    add("csv_wrong_header", nih, "b.csv", "name,label\n", "not the NIH box list")
    add("csv_short_row", nih, "b.csv", header + "a.png,Mass,1\n", "expected 6 columns")
    add("csv_text_box", nih, "b.csv", header + "a.png,Mass,one,two,3,4\n", "is not four numbers")
    add("csv_latin1", nih, "b.csv", (header + "a.png,Épanchement,1,1,5,5\n").encode("latin-1"), "cannot read")
    add("csv_nul_label", nih, "b.csv", header + "a.png,Ma\x00ss,1,1,5,5\n", "control characters")
    add("csv_escape_label", nih, "b.csv", header + "a.png,\x1bMass,1,1,5,5\n", "control characters")
    add("csv_empty_label", nih, "b.csv", header + "a.png,,1,1,5,5\n", "finding label is empty")
    add("csv_box_outside", nih, "b.csv", header + "a.png,Mass,40,1,50,5\n", "box outside the image")
    add("csv_nan_box", nih, "b.csv", header + "a.png,Mass,nan,1,5,5\n", "not four finite numbers")

    authors = "authors-csv"
    top = ",Image Index,Finding Label,x,y,w,h,label\n"
    add("authors_csv_wrong_header", authors, "t.csv", "Image Index,x\n", "not the EfficientDet authors' CSV")
    add("authors_csv_inf_label", authors, "t.csv", top + "0,a.png,,1,1,5,5,inf\n", "is not one of the authors' class")
    add("authors_csv_dotdot_path", authors, "t.csv", top + "0,../outside.png,Effusion,1,1,5,5,2\n",
        "climbs out of the image folder")

    yolo = "yolo"

    def labels(classes: bytes, files: dict[str, str]):
        def write(path: Path):
            path.mkdir()
            if classes is not None:
                (path / "classes.txt").write_bytes(classes)
            for n, t in files.items():
                (path / os.fsdecode(n.encode("latin-1")) if "\xff" in n else path / n).write_text(t)
        return write

    add("yolo_latin1_classes", yolo, "labels", labels("c\xf6ur\n".encode("latin-1"), {"a.txt": "0 .5 .5 .2 .2\n"}),
        "not UTF-8 text", names="classes.txt")
    add("yolo_no_classes", yolo, "labels", labels(None, {"a.txt": "0 .5 .5 .2 .2\n"}), "no classes file")
    add("yolo_bad_line", yolo, "labels", labels(b"heart\n", {"a.txt": "0 .5 nope .2\n"}), "expected 'class cx cy w h'",
        names="a.txt")
    add("yolo_class_out_of_range", yolo, "labels", labels(b"heart\n", {"a.txt": "7 .5 .5 .2 .2\n"}),
        "unknown category: class 7", names="a.txt")
    add("yolo_nan_coordinates", yolo, "labels", labels(b"heart\n", {"a.txt": "0 nan .5 .2 .2\n"}),
        "not four finite numbers", names="a.txt")
    add("yolo_nul_class", yolo, "labels", labels(b"he\x00art\n", {"a.txt": "0 .5 .5 .2 .2\n"}), "control characters",
        names="a.txt")
    add("yolo_non_utf8_label_file", yolo, "labels", labels(b"heart\n", {"\xff\xfea.txt": "0 .5 .5 .2 .2\n"}),
        "not valid UTF-8", names="labels")
    add("yolo_unknown_image", yolo, "labels", labels(b"heart\n", {"zz.txt": "0 .5 .5 .2 .2\n"}), "unknown image",
        names="zz.txt")

    voc = "voc"

    def xml(filename, obj="<object><name>heart</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>"
                          "<ymax>5</ymax></bndbox></object>"):
        return f"<annotation><filename>{filename}</filename>{obj}</annotation>"

    add("voc_bad_xml", voc, "a.xml", "<annotation><filename>a.png</filename>", "bad XML")
    add("voc_billion_laughs", voc, "a.xml", '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY l0 "ha">'
        + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
        + "]><annotation><filename>&l9;</filename></annotation>", "bad XML")
    add("voc_external_entity", voc, "a.xml", '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM '
        '"file:///etc/passwd">]><annotation><filename>&x;</filename></annotation>', "bad XML")
    add("voc_no_filename", voc, "a.xml", xml(""), "missing the image's file name")
    add("voc_dotdot_filename", voc, "a.xml", xml("../outside.png"), "climbs out of the image folder")
    add("voc_absolute_filename", voc, "a.xml", xml(str(root / "outside.png")), "is an absolute path")
    add("voc_text_box", voc, "a.xml", xml("a.png", "<object><name>heart</name><bndbox><xmin>a</xmin>"
                                                   "</bndbox></object>"), "bndbox needs numeric")
    add("voc_escape_label", voc, "a.xml", xml("a.png", "<object><name>&#x1b;heart</name><bndbox><xmin>1</xmin>"
                                                       "<ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>"
                                                       "</object>"), "bad XML")
    add("voc_tab_label", voc, "a.xml", xml("a.png", "<object><name>he&#9;art</name><bndbox><xmin>1</xmin>"
                                                    "<ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"),
        "control characters")
    return kinds


# -- weights ---------------------------------------------------------------------------------------
def _weights(root: Path) -> list[Kind]:
    import torch
    from weights_payloads import CreatesFile, LightningConfig

    d = root / "weights"
    d.mkdir(parents=True)
    kinds: list[Kind] = []

    def add(name, filename, make, reason, payload=None):
        path = d / filename
        make(path)
        kinds.append(Kind(f"weights:{name}", "weights", path, reason, payload=payload))

    add("empty", "empty.pth", lambda p: p.write_bytes(b""), "empty")
    add("random_bytes", "random.pth", lambda p: p.write_bytes(np.random.default_rng(1).bytes(4096)),
        "not a weights file")
    add("text", "notes.pt", lambda p: p.write_text("not weights\n"), "not a weights file")

    def truncated(p):
        torch.save({"w": torch.ones(64)}, p)
        p.write_bytes(p.read_bytes()[:300])
    add("truncated_zip", "cut.pth", truncated, "truncated")
    target = d / "ran_system"
    add("raw_pickle_os_system", "raw.pth",
        lambda p: p.write_bytes(pickle.dumps(CreatesFile(str(target)), protocol=2)), "contains Python code",
        payload=target)
    target2 = d / "ran_zip"
    add("torch_zip_os_system", "zip.pth", lambda p: torch.save({"state_dict": {"w": torch.ones(1)},
                                                                "x": CreatesFile(str(target2))}, p),
        "refused", payload=target2)
    target3 = d / "ran_lightning"
    add("lightning_payload", "model.ckpt", lambda p: torch.save({"state_dict": {"w": torch.ones(1)},
                                                                 "hyper_parameters": LightningConfig(str(target3))},
                                                                p), "is not a DenseNet", payload=target3)  # never unpickled
    add("safetensors_cut", "cut.safetensors", lambda p: p.write_bytes(struct.pack("<Q", 1000) + b'{"w": '),
        "truncated or corrupt")
    add("safetensors_huge_header", "huge.safetensors",
        lambda p: p.write_bytes(struct.pack("<Q", 2**62) + b"{}"), "truncated or corrupt")
    add("wrong_architecture", "other.pth", lambda p: torch.save({"fc.weight": torch.ones(2, 3)}, p), "chexnet")
    (d / "dir.pth").mkdir()
    kinds.append(Kind("weights:directory", "weights", d / "dir.pth", "is a folder"))
    kinds.append(Kind("weights:missing", "weights", d / "nope.pth", "not found"))
    return kinds


# -- folders (the window's File > Open folder) -------------------------------------------------------
def _folders(root: Path) -> list[Kind]:
    from exchange_helpers import write_png

    d = root / "folders"
    kinds: list[Kind] = []
    odd = d / "non_utf8"
    write_png(odd / "img.png", 20, 10)
    write_png(odd / os.fsdecode(b"\xff\xfeimg.png"), 20, 10, seed=2)
    kinds.append(Kind("folder:non_utf8_name", "folder", odd, "not valid UTF-8", names="non_utf8"))
    loop = d / "link_loop"
    write_png(loop / "img.png", 20, 10)
    os.symlink(loop, loop / "again")  # a link to itself: never followed, never endless
    kinds.append(Kind("folder:link_loop", "folder", loop, "1 image", names="link_loop"))
    empty = d / "empty"
    empty.mkdir(parents=True)
    kinds.append(Kind("folder:empty", "folder", empty, "0 images", names="empty"))
    kinds.append(Kind("folder:missing", "folder", d / "missing", "not a folder", names="missing"))
    return kinds


def build_corpus(root: Path) -> list[Kind]:
    """Write every kind of bad input under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    kinds = _images(root) + _imports(root) + _weights(root) + _folders(root)
    assert len({k.name for k in kinds}) == len(kinds), "kind names must be unique"
    return kinds
