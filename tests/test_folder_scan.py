"""Folder scan: recursive, natural order, supported files only, `.loupe/` skipped, first batch early."""

from __future__ import annotations

import time

from desktop.core.folder import list_images, scan_folder


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_natural_recursive_order_and_filters(tmp_path):
    for name in ["img10.png", "img2.PNG", "img1.jpg", "notes.txt", "b/x.dcm", "a/z.tif", "a/y2.bmp",
                 "a/y10.webp", ".loupe/thumb.png", ".hidden/h.png", "noext_dicom", "noext_other"]:
        _touch(tmp_path / name)
    _touch(tmp_path / "noext_dicom", b"\0" * 128 + b"DICM" + b"\0" * 10)
    listed = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert listed == ["img1.jpg", "img2.PNG", "img10.png", "noext_dicom",
                      "a/y2.bmp", "a/y10.webp", "a/z.tif", "b/x.dcm"]
    assert all(p.is_absolute() for p in list_images(tmp_path))


def test_first_batch_holds_one_image_and_comes_before_the_rest(tmp_path):
    for i in range(3000):
        _touch(tmp_path / f"im{i}.png")
    start = time.perf_counter()
    batches = scan_folder(tmp_path, batch_size=500)
    first = next(batches)
    elapsed = time.perf_counter() - start
    assert [p.name for p in first] == ["im0.png"]
    assert elapsed < 1.0
    rest = [p for b in batches for p in b]
    assert len(rest) == 2999 and rest[0].name == "im1.png" and rest[-1].name == "im2999.png"


def test_cancel_stops_between_batches(tmp_path):
    for i in range(50):
        _touch(tmp_path / f"d{i}" / "a.png")
    stop = {"now": False}
    seen = []
    for batch in scan_folder(tmp_path, cancelled=lambda: stop["now"]):
        seen.extend(batch)
        stop["now"] = len(seen) >= 5
    assert len(seen) == 5


def test_long_listings_sort_in_runs_into_the_same_natural_order(tmp_path, monkeypatch):
    """Runs merged in Python (so the scan never holds the GIL for one long C sort) give exactly the
    order of one stable natural sort, equal keys (IMG1 / img1) in their first order, both ways."""
    import random

    from natsort import natsort_keygen, ns

    import desktop.core.folder as folder

    reference = natsort_keygen(alg=ns.IGNORECASE)  # the published natural order, as natsort gives it
    rng = random.Random(3)
    names = [rng.choice(["img", "IMG", "Img", "b", "B"]) + str(rng.randint(0, 300)) + rng.choice([".png", ".PNG"])
             for _ in range(3000)]
    monkeypatch.setattr(folder, "SORT_RUN", 64)
    assert folder.natural_sorted(names) == sorted(names, key=reference)
    assert folder.natural_sorted(names, reverse=True) == sorted(names, key=reference, reverse=True)
    for name in [f"im{i}.png" for i in (10, 2, 1, 33, 3)]:
        _touch(tmp_path / name)
    monkeypatch.setattr(folder, "SORT_RUN", 2)
    assert [p.name for p in list_images(tmp_path)] == ["im1.png", "im2.png", "im3.png", "im10.png", "im33.png"]
