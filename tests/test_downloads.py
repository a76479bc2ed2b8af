"""The weights downloader against a local HTTP server on 127.0.0.1 (tests never leave the machine):
resume after a cut, wrong checksum, 404, a slow server, a full disk, no network, cancel."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from desktop.core.downloads import DownloadCancelled, DownloadError, fetch, partial_path
from tests.download_server import serve

DATA = os.urandom(3 * 1024 * 1024 + 123)
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)


def test_download_writes_the_file_and_its_checksum(tmp_path):
    seen = []
    with serve({"/w.bin": DATA}) as srv:
        got = fetch(srv.url("/w.bin"), tmp_path / "w.bin", sha256=SHA, progress=lambda d, t: seen.append((d, t)))
    assert (tmp_path / "w.bin").read_bytes() == DATA
    assert got.sha256 == SHA and got.md5 == hashlib.md5(DATA).hexdigest() and got.resumed_from == 0
    assert seen[-1] == (len(DATA), len(DATA)) and len(seen) > 3
    assert not partial_path(tmp_path / "w.bin").exists() and not (tmp_path / ".downloads").exists()
    assert [r[0] for r in srv.requests] == ["GET"]  # one GET, nothing else


def test_interrupted_transfer_resumes_with_a_range_request(tmp_path):
    dest = tmp_path / "w.bin"
    with serve({"/w.bin": DATA}) as srv:
        srv.cut_after = 1_000_000
        with pytest.raises(DownloadError, match="resumes from there"):
            fetch(srv.url("/w.bin"), dest, sha256=SHA)
        assert not dest.exists()
        assert partial_path(dest).stat().st_size == 1_000_000
        got = fetch(srv.url("/w.bin"), dest, sha256=SHA)
    assert got.resumed_from == 1_000_000
    assert srv.requests[-1][2] == "bytes=1000000-"
    assert dest.read_bytes() == DATA and not partial_path(dest).exists()


def test_a_server_that_ignores_the_range_restarts_cleanly(tmp_path):
    dest = tmp_path / "w.bin"
    with serve({"/w.bin": DATA}) as srv:
        srv.cut_after = 500_000
        with pytest.raises(DownloadError):
            fetch(srv.url("/w.bin"), dest)
        srv.ignore_range = True
        got = fetch(srv.url("/w.bin"), dest, sha256=SHA)
    assert got.resumed_from == 0 and dest.read_bytes() == DATA


def test_wrong_checksum_is_refused_and_leaves_no_file(tmp_path):
    dest = tmp_path / "w.bin"
    with serve({"/w.bin": DATA}) as srv:
        with pytest.raises(DownloadError, match="not the published file: its SHA-256 is " + SHA):
            fetch(srv.url("/w.bin"), dest, sha256="0" * 64)
        with pytest.raises(DownloadError, match="its MD5 is"):
            fetch(srv.url("/w.bin"), dest, md5="f" * 32)
    assert not dest.exists() and not partial_path(dest).exists()


def test_a_file_that_does_not_load_is_not_installed(tmp_path):
    dest = tmp_path / "w.bin"

    def refuse(path):
        assert path.read_bytes() == DATA  # validated before it takes its place
        raise ValueError("not a checkpoint")

    with serve({"/w.bin": DATA}) as srv:
        with pytest.raises(DownloadError, match="does not load .not a checkpoint."):
            fetch(srv.url("/w.bin"), dest, validate=refuse)
    assert not dest.exists() and not partial_path(dest).exists()


def test_404_says_the_server_has_no_such_file(tmp_path):
    with serve({}) as srv:
        with pytest.raises(DownloadError, match=r"no such file \(HTTP 404 Not Found\)"):
            fetch(srv.url("/missing.pth"), tmp_path / "m.pth")
    assert not (tmp_path / "m.pth").exists()


def test_slow_server_times_out_with_a_message(tmp_path):
    with serve({"/w.bin": DATA}) as srv:
        srv.stall = 3.0
        with pytest.raises(DownloadError, match="127.0.0.1 stopped sending data"):
            fetch(srv.url("/w.bin"), tmp_path / "w.bin", timeout=0.5)
    assert not (tmp_path / "w.bin").exists()


def test_no_network_is_a_clear_message(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(DownloadError, match=r"^No network: cannot reach 127.0.0.1"):
        fetch(f"http://127.0.0.1:{port}/w.bin", tmp_path / "w.bin", timeout=2)


def test_disk_full_says_so_and_leaves_nothing(tmp_path, monkeypatch):
    import builtins

    real_open = builtins.open

    def fake_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        if "b" in mode and ("w" in mode or "+" in mode):
            return _FullAfter(f, 2)
        return f

    monkeypatch.setattr("desktop.core.downloads.downloader.open", fake_open, raising=False)
    dest = tmp_path / "w.bin"
    with serve({"/w.bin": DATA}) as srv:
        with pytest.raises(DownloadError, match=r"^The disk is full: w.bin does not fit in .* \(3 MB needed\)"):
            fetch(srv.url("/w.bin"), dest, chunk=65536)
    assert not dest.exists() and not partial_path(dest).exists()


class _FullAfter:
    """A file whose writes fail with ENOSPC after `n` good ones."""

    def __init__(self, f, n):
        self.f, self.n = f, n

    def write(self, b):
        if self.n <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.n -= 1
        return self.f.write(b)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_cancel_keeps_the_part_and_the_next_try_resumes(tmp_path):
    dest = tmp_path / "w.bin"
    state = {"n": 0}

    def cancel_soon():
        state["n"] += 1
        return state["n"] > 2

    with serve({"/w.bin": DATA}) as srv:
        with pytest.raises(DownloadCancelled):
            fetch(srv.url("/w.bin"), dest, cancelled=cancel_soon, chunk=65536)
        kept = partial_path(dest).stat().st_size
        assert 0 < kept < len(DATA) and not dest.exists()
        got = fetch(srv.url("/w.bin"), dest, sha256=SHA)
    assert got.resumed_from == kept and dest.read_bytes() == DATA


def test_a_complete_part_is_finished_without_downloading_again(tmp_path):
    dest = tmp_path / "w.bin"
    partial_path(dest).parent.mkdir()
    partial_path(dest).write_bytes(DATA)
    with serve({"/w.bin": DATA}) as srv:
        got = fetch(srv.url("/w.bin"), dest, sha256=SHA)  # the server answers 416 to bytes=len-
    assert dest.read_bytes() == DATA and got.resumed_from == len(DATA)


def test_the_proxy_of_the_environment_is_used(tmp_path, monkeypatch):
    # a local server standing in for the proxy: urllib sends it the absolute address
    url = "http://weights.example.invalid/w.bin"
    with serve({url: DATA}) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url(""))
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        got = fetch(url, tmp_path / "w.bin", sha256=SHA)
    assert got.size == len(DATA) and proxy.requests == [("GET", url, None)]
