#!/usr/bin/env bash
# Build the Linux bundle of packaging/loupe.spec from a clean copy of the tree (tracked files and
# untracked ones git does not ignore: no caches, no weights, no old builds) and run the built app's
# --self-test. Exit 0 only if both succeed. CI runs it when packaging/ changes; so does
# tests/test_packaging_build.py (marked slow).
#
#   packaging/check_linux_build.sh [KEEP_DIR]     (default: a temporary folder, removed on success)
#   PYTHON=/path/to/python packaging/check_linux_build.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || {
  echo "check_linux_build: PyInstaller is missing: $PY -m pip install -e '.[packaging]'" >&2; exit 2; }

WORK=${1:-$(mktemp -d "${TMPDIR:-/tmp}/loupe-linux-build.XXXXXX")}
mkdir -p "$WORK/src"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
  | (cd "$ROOT" && xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' ) \
  | tar -C "$ROOT" --null -T - -cf - | tar -C "$WORK/src" -xf -
echo "check_linux_build: building from a clean copy in $WORK/src"

status=0
QT_QPA_PLATFORM=offscreen "$PY" "$WORK/src/packaging/build.py" \
  --dist "$WORK/dist" --work "$WORK/build" --self-test --json "$WORK/figures.json" || status=$?
if [ "$status" -eq 0 ] && [ -z "${1:-}" ]; then
  rm -rf "$WORK"
else
  echo "check_linux_build: kept $WORK (status $status)"
fi
exit "$status"
