#!/usr/bin/env bash
# The wheel and the sdist, each installed with `pipx install` into a fresh environment, pass the
# bundle's smoke test (packaging/pyinstaller/smoke.sh).   Usage: packaging/pipx_smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet build pipx
"$work/tools/bin/python" -m build --outdir "$work/dist" . >/dev/null
for artifact in "$work"/dist/congsync-*.whl "$work"/dist/congsync-*.tar.gz; do
  echo "pipx: $(basename "$artifact")"
  export PIPX_HOME="$work/pipx-home" PIPX_BIN_DIR="$work/pipx-bin"
  "$work/tools/bin/pipx" install --force "$artifact" >/dev/null 2>&1
  packaging/pyinstaller/smoke.sh "$PIPX_BIN_DIR"
  "$work/tools/bin/pipx" uninstall congsync >/dev/null 2>&1
done
