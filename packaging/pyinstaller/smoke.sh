#!/usr/bin/env bash
# Smoke test of the one-folder bundle from the bundle alone: no Python on PATH.
#   packaging/pyinstaller/smoke.sh dist/congsync
# (packaging/pipx_smoke.sh runs it against pipx's bin folder too: its `congsync` finds its own
# Python by the absolute path in its first line.)
# `congsync --version`, `congsync demo`, then `congsync run --no-tray` reaching idle against the
# demo server (set up with the very command the demo prints).
set -euo pipefail
bundle=$(cd "${1:?usage: smoke.sh DIST/congsync}" && pwd)
work=$(mktemp -d)
rm_tool=$(command -v rm)
demo_pid="" run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null || true
  [ -n "$demo_pid" ] && kill -INT "$demo_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  "$rm_tool" -rf "$work"
}
trap cleanup EXIT

# A PATH with a handful of tools and the bundle, and nothing else: no python anywhere on it.
mkdir "$work/bin"
for tool in sleep grep sed cat; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
export PATH="$bundle:$work/bin"
export HOME="$work/home" CONGSYNC_STATE_DIR="$work/state" CONGSYNC_CONFIG="$work/config.toml"
export PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
if command -v python3 >/dev/null || command -v python >/dev/null; then
  echo "smoke: python is still on PATH" >&2; exit 1
fi
step() { echo "smoke: $*"; }

step "congsync --version"
congsync --version | grep -q '^congsync '

step "congsync --lang sl --help and LANGUAGE=de: the catalogues are inside"
english=$(congsync --help)
[ "$(congsync --lang sl --help)" != "$english" ]
[ "$(LANGUAGE=de congsync --help)" != "$english" ]

step "congsync demo"
congsync demo --dir "$work/demo-once" >"$work/demo-once.out"
grep -q "Done in" "$work/demo-once.out"

step "congsync demo --keep-running, then setup and run --no-tray until idle"
congsync demo --dir "$work/demo" --keep-running >"$work/demo.out" 2>&1 &
demo_pid=$!
for ((i = 0; i < 300; i++)); do grep -q -- "--password-file" "$work/demo.out" && break; sleep 0.2; done
setup_line=$(grep -- "--password-file" "$work/demo.out" | sed 's/^ *//')
[ -n "$setup_line" ] || { cat "$work/demo.out"; exit 1; }
case "$setup_line" in "$bundle/congsync setup "* | "congsync setup "*) ;; *) echo "smoke: unexpected: $setup_line" >&2; exit 1;; esac
eval "$setup_line" >"$work/setup.out"
congsync run --no-tray --interval 10 >"$work/run.out" 2>&1 &
run_pid=$!
idle=""
for ((i = 0; i < 300; i++)); do
  status=$(congsync status --json 2>/dev/null || true)
  if echo "$status" | grep -q '"state": "idle"' && echo "$status" | grep -q '"cycles_finished": [1-9]'; then
    idle=yes; break
  fi
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$idle" ]; then
  echo "smoke: congsync run did not reach idle" >&2; cat "$work/run.out" >&2; echo "$status" >&2; exit 1
fi
congsync stop >/dev/null
wait "$run_pid"; run_pid=""
step "ok"
