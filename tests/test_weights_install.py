"""Choose file…'s core (`install_file`): the file takes the preset's own name only when its type
matches, only after it loaded, and a file that does not load leaves the models folder as it was."""

from __future__ import annotations

import pytest

from desktop.core.downloads import install_file
from models.errors import WeightsError


def test_a_file_of_another_type_is_refused_with_the_way_to_use_it(tmp_path):
    other = tmp_path / "chexnet.safetensors"
    other.write_bytes(b"x")
    with pytest.raises(WeightsError, match=r"chexnet.safetensors: chexnet looks for model.pth.tar, a .pth.tar "
                                           r"file; this is a .safetensors\. To use it as its own model, drop it"):
        install_file("chexnet", other, tmp_path / "models", validate=lambda p, f: None)
    assert not (tmp_path / "models").exists()


def test_the_file_is_checked_first_then_copied_under_the_presets_name(tmp_path):
    chosen = tmp_path / "downloads" / "best.pth.tar"
    chosen.parent.mkdir()
    chosen.write_bytes(b"weights")
    checked = []
    target = install_file("chexnet", chosen, tmp_path / "models", validate=lambda p, f: checked.append((p, f)))
    assert checked == [("chexnet", chosen)]
    assert target == tmp_path / "models" / "model.pth.tar" and target.read_bytes() == b"weights"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["model.pth.tar"]  # no temporary left

    def refuse(_preset, _path):
        raise WeightsError("not a CheXNet checkpoint")

    chosen.write_bytes(b"other")
    with pytest.raises(WeightsError, match="not a CheXNet checkpoint"):
        install_file("chexnet", chosen, tmp_path / "models", validate=refuse)
    assert target.read_bytes() == b"weights"  # the installed file is untouched
