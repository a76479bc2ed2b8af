"""Window/level as a radiology viewer keeps it: a manual window belongs to its image (DICOM: to its
series); other images open at their own default unless W/L is locked; presets without repeats."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid
from viewer_helpers import make_window, open_and_wait

from desktop.core.imaging import CT_PRESETS
from desktop.core.samples import write_samples

pytestmark = pytest.mark.gui

CT, CR, PNG8 = "07_ct_phantom_rescaled.dcm", "08_cr_monochrome1.dcm", "01_chest_phantom.png"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wl")
    write_samples(folder)
    ds = pydicom.dcmread(folder / CT)  # a second slice of the same CT series
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceNumber = 2
    ds.save_as(folder / "07b_same_series.dcm")
    return folder


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return make_window(qtbot, tmp_path, monkeypatch)


def _show(window, folder, name):
    assert window.show_image(folder / name)
    return window.current_image()


def _at_default(window, image):
    assert window.wl.user is None
    np.testing.assert_array_equal(window.canvas.shown_pixels(), image.render())


def test_a_ct_window_stays_on_the_ct_not_on_a_cr_or_an_8_bit_png(qtbot, window, folder):
    open_and_wait(qtbot, window, folder)
    ct = _show(window, folder, CT)
    window.wl.set_window((-600.0, 1500.0, "Lung"))
    np.testing.assert_array_equal(window.canvas.shown_pixels(), ct.render((-600, 1500)))
    _at_default(window, _show(window, folder, CR))
    png = _show(window, folder, PNG8)
    _at_default(window, png)
    assert window.wl_panel.center.value() == 128.0 and window.wl_panel.width.value() == 256.0
    ct = _show(window, folder, CT)  # back on the CT: its own manual window again
    assert window.wl.user[:2] == (-600.0, 1500.0)
    np.testing.assert_array_equal(window.canvas.shown_pixels(), ct.render((-600, 1500)))


def test_a_drag_belongs_to_the_image_too(qtbot, window, folder):
    open_and_wait(qtbot, window, folder)
    _show(window, folder, CT)
    window.wl.drag(40, -30)
    window.wl.end_drag()
    dragged = window.wl.user
    _at_default(window, _show(window, folder, CR))
    _show(window, folder, CT)
    assert window.wl.user == dragged


def test_the_same_series_keeps_the_window(qtbot, window, folder):
    open_and_wait(qtbot, window, folder)
    _show(window, folder, CT)
    window.wl.set_window((300.0, 1200.0))
    slice2 = _show(window, folder, "07b_same_series.dcm")
    assert window.wl.user[:2] == (300.0, 1200.0)
    np.testing.assert_array_equal(window.canvas.shown_pixels(), slice2.render((300, 1200)))
    _at_default(window, _show(window, folder, "10_ct_phantom_rle.dcm"))  # another CT series: its own


def test_lock_keeps_the_window_everywhere_and_reset_ends_it(qtbot, window, folder):
    open_and_wait(qtbot, window, folder)
    _show(window, folder, CT)
    window.wl.set_window((300.0, 1200.0))
    window.wl_panel.lock.click()
    assert window.wl.locked
    for name in (CR, PNG8, "10_ct_phantom_rle.dcm"):
        image = _show(window, folder, name)
        assert window.wl.user[:2] == (300.0, 1200.0), name
        np.testing.assert_array_equal(window.canvas.shown_pixels(), image.render((300, 1200)))
    window.wl_panel.reset.click()
    assert not window.wl.locked and not window.wl_panel.lock.isChecked()
    _at_default(window, _show(window, folder, CR))


def test_lock_without_a_manual_window_keeps_the_window_on_screen(qtbot, window, folder):
    open_and_wait(qtbot, window, folder)
    ct = _show(window, folder, CT)
    window.wl_panel.lock.click()
    png = _show(window, folder, PNG8)
    assert window.wl.user[:2] == ct.default_window()[:2]
    np.testing.assert_array_equal(window.canvas.shown_pixels(), png.render(ct.default_window()))


def test_presets_have_no_repeats_and_ct_windows_only_on_ct(qtbot, window, folder):
    open_and_wait(qtbot, window, folder)

    def entries():
        combo = window.wl_panel.presets
        return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]

    _show(window, folder, CT)
    ct_entries = entries()
    numbers = [t[t.rindex("("):] for t, _ in ct_entries]
    assert len(numbers) == len(set(numbers)), ct_entries  # "Lung" and "CT Lung" were both listed
    texts = [t for t, _ in ct_entries]
    assert texts[0] == "Image default: Soft tissue (40/400)"
    assert "Lung (-600/1500)" in texts and "CT Lung (-600/1500)" not in texts
    assert "CT Brain (40/80)" in texts and "CT Mediastinum (40/400)" not in texts
    assert not any("VOI LUT" in t for t in texts)
    for name in (CR, PNG8):
        _show(window, folder, name)
        assert not any(t.startswith("CT ") for t, _ in entries()), name
    _show(window, folder, CT)
    window.wl.set_window(CT_PRESETS[3])  # Brain chosen: selected, not listed again as "Manual"
    assert window.wl_panel.presets.currentText() == "CT Brain (40/80)"
    assert len(entries()) == len(ct_entries)


def test_lock_survives_a_restart(qtbot, window, folder, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, folder)
    _show(window, folder, CT)
    window.wl.set_window((300.0, 1200.0))
    window.wl_panel.lock.click()
    window.close()
    again = make_window(qtbot, tmp_path, monkeypatch)
    open_and_wait(qtbot, again, folder)
    assert again.wl.locked and again.wl_panel.lock.isChecked()
    _show(again, folder, CR)
    assert again.wl.user[:2] == (300.0, 1200.0)
