"""The real OS keyring: a Secret Service (gnome-keyring) on a private D-Bus session.

Every other test uses the in-memory keyring from conftest; this one proves the password really
travels through the Secret Service and never into the configuration file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from davserver import DavFixture
from support import write_prefs

pytestmark = pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs dbus-run-session and gnome-keyring-daemon (installed by .ci/run)",
)

SCRIPT = """
set -e
echo -n unlock-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null
printf '%s\\n' "$DAV_PASSWORD" | "$PYTHON" -m daemon setup --url "$DAV_URL" --username vo \
  --folder congregation --media-dir "$MEDIA" --ca-bundle "$CA" --password-stdin
unset DAV_PASSWORD
"$PYTHON" -m daemon sync --json
"""


def test_setup_stores_the_password_in_the_secret_service_and_sync_reads_it(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    day = (date.today() + timedelta(days=1)).isoformat()
    dav.put_file(f"Media/{day}/a.jpg", b"a")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHON_KEYRING_BACKEND", "CONGSYNC_PASSWORD")
    }
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"),
        PYTHON=sys.executable,
        DAV_URL=dav.base_url,
        DAV_PASSWORD=dav.password,
        MEDIA=str(tmp_path / "media"),
        CA=str(dav.ca_path),
    )
    (tmp_path / "home").mkdir()

    done = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "OS keyring" in done.stdout
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert summary["downloaded"] == 1
    assert (tmp_path / "media" / day / "a.jpg").read_bytes() == b"a"
    assert dav.password not in Path(env["CONGSYNC_CONFIG"]).read_text()
