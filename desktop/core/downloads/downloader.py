"""Download one file over HTTP(S), the only network access Loupe makes (and only when the user
presses Download or runs `loupe weights get`). No Qt: the Get weights dialog runs it in a worker.

    fetch(url, dest, sha256=..., progress=lambda done, total: ..., cancelled=lambda: False)

- streamed in chunks to `<dest folder>/.downloads/<name>`; a later call resumes from where that
  file stopped (HTTP Range), and starts over when the server ignores the range;
- proxies come from the environment (urllib's default ProxyHandler reads HTTPS_PROXY/NO_PROXY);
- the checksum (SHA-256 and/or MD5) is computed while reading and checked at the end: a mismatch
  deletes the file; `validate(path)` (e.g. loading the model once) runs before the file takes its
  place; the file is moved into place with os.replace, so `dest` is either absent or complete;
- a cancel keeps the partial file (for resuming); a full disk or a bad checksum leaves nothing.
Every failure is a `DownloadError` whose message names the file, the host and what to do.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from models.errors import LoupeError

CHUNK = 1 << 20
PARTIAL_DIR = ".downloads"


class DownloadError(LoupeError):
    """A download failed; the message says why and what to do."""


class DownloadCancelled(DownloadError):
    """The user cancelled; the partial file is kept so that the next try resumes."""


@dataclass
class Fetched:
    path: Path
    size: int
    sha256: str
    md5: str
    resumed_from: int  # bytes that were already on disk from an earlier try (0: a fresh start)


def partial_path(dest: Path) -> Path:
    """Where an unfinished download of `dest` lives (the same folder, so os.replace is atomic)."""
    dest = Path(dest)
    return dest.parent / PARTIAL_DIR / dest.name


def _discard(part: Path) -> None:
    """Remove a partial file and its folder when that is empty."""
    part.unlink(missing_ok=True)
    try:
        part.parent.rmdir()
    except OSError:
        pass


def _hashers(part: Path, offset: int):
    sha, md5 = hashlib.sha256(), hashlib.md5()
    if offset:
        with open(part, "rb") as f:
            while block := f.read(CHUNK):
                sha.update(block)
                md5.update(block)
    return sha, md5


def _open(url: str, offset: int, timeout: float):
    request = urllib.request.Request(url, headers={"User-Agent": "Loupe", "Accept-Encoding": "identity"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.build_opener().open(request, timeout=timeout)


def _network_error(url: str, exc: BaseException, reading: bool = False) -> DownloadError:
    host = urlsplit(url).hostname or url
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 404:
            return DownloadError(f"{url}: the server has no such file (HTTP 404 Not Found). "
                                 "The address may have changed; check the source page.")
        return DownloadError(f"{url}: the server refused the download (HTTP {exc.code} {exc.reason}).")
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return DownloadError(f"{host} stopped sending data ({url}); try again later: what arrived is kept "
                             "and the download resumes from there.")
    if reading:
        return DownloadError(f"The connection to {host} broke ({reason}); try again: what arrived is kept "
                             "and the download resumes from there.")
    return DownloadError(f"No network: cannot reach {host} ({reason}). Check the internet connection "
                         "(and the proxy settings, HTTPS_PROXY, if you use one), or download the file "
                         "elsewhere and use Choose file.")


def fetch(url: str, dest: str | Path, *, sha256: str | None = None, md5: str | None = None,
          size: int | None = None, progress: Callable[[int, int | None], None] | None = None,
          cancelled: Callable[[], bool] | None = None, validate: Callable[[Path], None] | None = None,
          timeout: float = 30.0, chunk: int = CHUNK) -> Fetched:
    dest = Path(dest)
    part = partial_path(dest)
    try:
        part.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"{dest.parent}: cannot write there: {exc.strerror or exc}") from exc
    offset = part.stat().st_size if part.is_file() else 0
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the range starts at the end: the earlier try got it all
            response = None
        else:
            raise _network_error(url, exc) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise _network_error(url, exc) from exc
    resumed_from = offset
    if response is not None:
        with response:
            status = getattr(response, "status", 200)
            if offset and status != 206:  # the server ignored Range: start over
                offset = resumed_from = 0
            elif offset and not (response.headers.get("Content-Range") or "").startswith(f"bytes {offset}-"):
                offset = resumed_from = 0  # a range we did not ask for: do not trust it
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else size
            sha, md5_ = _hashers(part, offset)
            done = offset
            try:
                with open(part, "r+b" if offset else "wb") as out:
                    out.seek(offset)
                    out.truncate()
                    if progress:
                        progress(done, total)
                    while True:
                        if cancelled is not None and cancelled():
                            raise DownloadCancelled(f"Download of {dest.name} cancelled; "
                                                    f"{done:,} bytes kept to resume.")
                        try:
                            block = response.read(chunk)
                        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, a cut short body
                            raise _network_error(url, exc, reading=True) from exc
                        if not block:
                            break
                        out.write(block)
                        sha.update(block)
                        md5_.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            except OSError as exc:  # writing failed (a read error is a DownloadError by now)
                _discard(part)
                if exc.errno == errno.ENOSPC:
                    need = f" ({total / 1e6:,.0f} MB needed)" if total else ""
                    raise DownloadError(f"The disk is full: {dest.name} does not fit in {dest.parent}{need}. "
                                        "Free some space and press Download again.") from exc
                raise DownloadError(f"{dest.parent}: cannot write {dest.name}: {exc.strerror or exc}") from exc
        if total is not None and done < total:
            raise DownloadError(f"{urlsplit(url).hostname} closed the connection after {done:,} of {total:,} "
                                f"bytes of {dest.name}; try again: the download resumes from there.")
    else:
        sha, md5_ = _hashers(part, offset)
        done = offset
    got_sha, got_md5 = sha.hexdigest(), md5_.hexdigest()
    for name, want, got in (("SHA-256", sha256, got_sha), ("MD5", md5, got_md5)):
        if want and want.strip().lower() != got:
            _discard(part)
            raise DownloadError(f"{dest.name} from {url} is not the published file: its {name} is {got}, "
                                f"expected {want.strip().lower()}. It was deleted; nothing was installed.")
    if validate is not None:
        try:
            validate(part)
        except Exception as exc:
            _discard(part)
            raise DownloadError(f"{dest.name} was downloaded but does not load ({exc}); "
                                "it was deleted; nothing was installed.") from exc
    os.replace(part, dest)
    _discard(part)
    return Fetched(dest, done, got_sha, got_md5, resumed_from)
