"""What `congsync sync` imports before it syncs: every process start pays for it (the bench's
cold sync counts it), so libraries a sync never uses stay out."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

PROBE = (
    "import json, sys\n"
    "import daemon.cli, daemon.commands.sync, daemon.service.root\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
)


def loaded_by_a_sync() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


@pytest.mark.skipif(
    importlib.util.find_spec("click") is None, reason="httpx imports its CLI only with click"
)
def test_httpx_command_line_client_is_not_imported():
    # httpx imports click, rich and pygments for its own CLI whenever click is installed
    loaded = loaded_by_a_sync()
    assert "httpx" in loaded
    assert not loaded & {"click", "rich", "pygments"}


def test_a_sync_does_not_import_the_panel_tray_or_conversions():
    loaded = loaded_by_a_sync()
    assert not loaded & {"jinja2", "PIL", "pystray", "apscheduler", "pypdfium2", "wsgidav"}
