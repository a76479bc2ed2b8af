"""`loupe weights list` and `loupe weights get PRESET [--url URL] [--sha256 HEX]`: the presets'
weights files, where each comes from and whether it is in the models folder; and downloading one
(the only network access Loupe makes, and only when asked)."""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="list|get")
    ls = sub.add_parser("list", help="each preset, its weights file, where it comes from, whether it is present")
    ls.add_argument("--models-dir", help="the models folder (default: the user's, or LOUPE_MODELS_DIR)")
    get = sub.add_parser("get", help="download a preset's weights into the models folder")
    get.add_argument("preset", help="the preset (see `loupe weights list`)")
    get.add_argument("--url", help="download from this address instead (a mirror or a local server; for a "
                                   "folder preset, the address its files are under)")
    get.add_argument("--sha256", help="the file's expected SHA-256 (checked; a mismatch installs nothing)")
    get.add_argument("--models-dir", help="the models folder (default: the user's, or LOUPE_MODELS_DIR)")
    get.add_argument("--timeout", type=float, default=30.0, help="seconds without data before giving up")


def _folder(args):
    from pathlib import Path

    from models.resources import user_models_dir

    return Path(args.models_dir) if args.models_dir else user_models_dir()


def run(args) -> int:
    return _list(args) if args.action == "list" else _get(args)


def _list(args) -> int:
    from desktop.core.downloads import weights_sources

    folder = _folder(args)
    print(f"models folder: {folder}")
    for s in weights_sources():
        state = "present" if s.present(folder) else "missing"
        missing = s.missing_files(folder)
        if s.is_folder and missing and len(missing) < len(s.files):
            state = f"incomplete (lacks {', '.join(missing)})"
        print(f"{s.preset:<16} {s.file + ('/' if s.is_folder else ''):<32} {state}")
        if s.is_folder:
            print(f"  a folder of {len(s.files)} files from {s.host or s.page}:")
            for _name, url in s.file_urls():
                print(f"    {url}")
            if s.page:
                print(f"  page {s.page}")
        elif s.url:
            print(f"  from {s.url}")
            if s.page:
                print(f"  page {s.page}")
            print(f"  checksum {s.checksum_text()}; size {s.size_text()}")
        elif s.page:
            print(f"  page {s.page}")
        if s.note:
            print(f"  {s.note}")
    return 0


class _Bar:
    """A progress line on a terminal (nothing when stderr is not one)."""

    def __init__(self, name: str):
        self.name = name
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int | None) -> None:
        if not self.tty:
            return
        if total:
            pct = int(done * 100 / total)
            if pct == self.last:
                return
            self.last = pct
            bar = "#" * (pct // 4)
            sys.stderr.write(f"\r{self.name} [{bar:<25}] {pct:3d}% {done / 1e6:,.1f}/{total / 1e6:,.1f} MB")
        else:
            sys.stderr.write(f"\r{self.name} {done / 1e6:,.1f} MB")
        sys.stderr.flush()

    def end(self) -> None:
        if self.tty and self.last != -2:
            sys.stderr.write("\n")
            self.last = -2


def _get(args) -> int:
    from desktop.core.downloads import download_preset, weights_source

    src = weights_source(args.preset)
    url = args.url or src.url or (src.page if src.is_folder else None)
    folder = _folder(args)
    if not url:
        from models.errors import LoupeError

        raise LoupeError(f"{src.preset}: nothing to download. {src.note} The models folder is {folder}; "
                         "--url downloads from an address you give.")
    print(f"downloading {src.file} for {src.preset} from {url}", file=sys.stderr)
    bar = _Bar(src.file)
    try:
        got = download_preset(src, folder, url=args.url, sha256=args.sha256, progress=bar, timeout=args.timeout)
    finally:
        bar.end()
    resumed = f" (resumed after {got.resumed_from:,} bytes)" if got.resumed_from else ""
    if src.is_folder:
        print(f"installed the folder {got.path}{resumed}: {', '.join(src.files)}, {got.size:,} bytes, loaded once")
    else:
        print(f"installed {got.path}{resumed}: {got.size:,} bytes, SHA-256 {got.sha256}")
    return 0
