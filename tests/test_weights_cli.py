"""`loupe weights list|get` through the real entry point, against a local server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import main
from tests.download_server import serve

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="module")
def chexnet_file(tmp_path_factory) -> bytes:
    """model.pth.tar as the authors published it (seeded random weights), as bytes to serve."""
    from tests.e2e_helpers import build_preset_weights

    return build_preset_weights("chexnet", tmp_path_factory.mktemp("built")).read_bytes()


def test_weights_list_names_each_preset_its_file_source_and_presence(tmp_path):
    (tmp_path / "model.pth.tar").write_bytes(b"x")
    env = dict(os.environ, PYTHONPATH=str(ROOT), LOUPE_MODELS_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "desktop", "weights", "list"], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == f"models folder: {tmp_path}"
    row = {ln.split()[0]: ln.split() for ln in lines if not ln.startswith(" ")}
    assert row["chexnet"][1:] == ["model.pth.tar", "present"]
    assert row["heartformer"][1:] == ["heartformer-v0.1.safetensors", "missing"]
    assert "  from https://huggingface.co/giannisan/heartformer/resolve/main/heartformer-v0.1.safetensors" in lines
    assert ("  from https://huggingface.co/erfanasghariyan/resnet50_roco_radiocaptioner_big/resolve/main/"
            "roco_best_model.bin") in lines
    assert "  from https://github.com/arnoweng/CheXNet/raw/master/model.pth.tar" in lines
    # RF-DETR's checkpoints as the installed rfdetr package lists them, with its MD5
    from rfdetr.assets.model_weights import ModelWeights

    nano = ModelWeights.from_filename("rf-detr-nano.pth")
    i = lines.index(f"  from {nano.url}")
    assert lines[i + 2] == f"  checksum MD5 {nano.md5_hash}; size not published"
    qing = lines.index(next(ln for ln in lines if ln.startswith("qing ")))
    assert "publish no weights file" in lines[qing + 1]


def test_weights_get_downloads_checks_and_loads_into_the_models_folder(tmp_path, chexnet_file, capsys):
    sha = hashlib.sha256(chexnet_file).hexdigest()
    with serve({"/mirror/model.pth.tar": chexnet_file}) as srv:
        rc = main(["weights", "get", "chexnet", "--url", srv.url("/mirror/model.pth.tar"), "--sha256", sha,
                   "--models-dir", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert (tmp_path / "model.pth.tar").read_bytes() == chexnet_file
    assert out.out.strip() == f"installed {tmp_path / 'model.pth.tar'}: {len(chexnet_file):,} bytes, SHA-256 {sha}"
    assert [r[0] for r in srv.requests] == ["GET"]


def test_weights_get_refuses_a_wrong_checksum_and_a_file_that_is_not_the_model(tmp_path, capsys):
    data = b"not a checkpoint" * 1000
    with serve({"/m.pth.tar": data}) as srv:
        rc = main(["weights", "get", "chexnet", "--url", srv.url("/m.pth.tar"), "--sha256", "ab" * 32,
                   "--models-dir", str(tmp_path)])
        err = capsys.readouterr().err
        assert rc == 2 and "loupe weights: error: model.pth.tar from" in err and "expected " + "ab" * 32 in err
        rc = main(["weights", "get", "chexnet", "--url", srv.url("/m.pth.tar"), "--models-dir", str(tmp_path)])
        err = capsys.readouterr().err
        assert rc == 2 and "model.pth.tar was downloaded but does not load" in err
    assert list(tmp_path.iterdir()) == []


def test_weights_get_404_and_presets_without_weights(tmp_path, capsys):
    with serve({}) as srv:
        rc = main(["weights", "get", "heartformer", "--url", srv.url("/nope"), "--models-dir", str(tmp_path)])
    assert rc == 2 and "HTTP 404 Not Found" in capsys.readouterr().err
    rc = main(["weights", "get", "qing", "--models-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "qing: nothing to download. The authors of the Qing CNN-Transformer hybrid publish no" in err
    rc = main(["weights", "get", "nosuch", "--models-dir", str(tmp_path)])
    assert rc == 2 and "unknown preset 'nosuch'" in capsys.readouterr().err


def test_weights_get_shows_a_progress_bar_on_a_terminal(tmp_path, monkeypatch, capsys):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    data = os.urandom(300_000)
    with serve({"/f.pth.tar": data}) as srv:
        from desktop.commands.weights import _Bar
        from desktop.core.downloads import fetch

        bar = _Bar("f.pth.tar")
        fetch(srv.url("/f.pth.tar"), tmp_path / "f.pth.tar", progress=bar, chunk=30_000)
        bar.end()
    frames = term.getvalue().split("\r")
    assert frames[-1] == f"f.pth.tar [{'#' * 25}] 100% 0.3/0.3 MB\n"
    assert any(" 50% " in f for f in frames) and len(frames) >= 10
