"""`congsync serve --install-service`: the systemd unit it writes, checked against systemd's rules."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.errors import ConfigError
from daemon.server.serve import ServeOptions
from daemon.service.serve_unit import serve_argv, unit_text


def _exec_start(text: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart=").replace("%%", "%").replace("$$", "$"))


def test_a_user_unit_runs_the_same_serve_command(tmp_path: Path):
    options = ServeOptions(root=tmp_path / "the share", host="0.0.0.0", port=8443)
    argv = serve_argv("/opt/py/bin/python3", options)

    text = unit_text(argv, options, system=False, user="vo")

    assert _exec_start(text) == [
        "/opt/py/bin/python3", "-m", "daemon", "serve", "--root", str(tmp_path / "the share"),
        "--host", "0.0.0.0", "--port", "8443",
    ]  # fmt: skip
    assert "WantedBy=default.target" in text
    assert "User=" not in text  # a user unit runs as its user anyway
    assert "Restart=on-failure" in text


def test_a_system_unit_runs_as_the_installing_user_and_may_write_only_the_share(tmp_path: Path):
    options = ServeOptions(
        root=tmp_path / "share", port=443, cert=tmp_path / "c.pem", key=tmp_path / "k.pem"
    )
    text = unit_text(
        serve_argv("/usr/bin/congsync", options, frozen=True), options, system=True, user="vo"
    )

    assert "User=vo" in text
    assert "ProtectSystem=strict" in text
    assert "WantedBy=multi-user.target" in text
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in text  # port 443
    writable = next(x for x in text.splitlines() if x.startswith("ReadWritePaths="))
    assert str(tmp_path / "share") in writable
    assert str(tmp_path / "share.congsync-server") in writable
    assert _exec_start(text)[:2] == ["/usr/bin/congsync", "serve"]
    assert "--cert" in _exec_start(text)


def test_a_path_with_a_newline_cannot_inject_unit_lines(tmp_path: Path):
    options = ServeOptions(root=tmp_path / "x\nExecStartPre=/bin/evil")
    with pytest.raises(ConfigError):
        unit_text(serve_argv("/usr/bin/python3", options), options, system=False, user="vo")


def test_percent_and_dollar_are_escaped_for_systemd(tmp_path: Path):
    options = ServeOptions(root=tmp_path / "100%$HOME")
    text = unit_text(serve_argv("/usr/bin/python3", options), options, system=False, user="vo")
    assert "100%%$$HOME" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_accepts_the_unit(tmp_path: Path):
    options = ServeOptions(root=tmp_path / "share")
    unit = tmp_path / "congsync-serve.service"
    unit.write_text(unit_text(serve_argv("/bin/true", options), options, system=True, user="root"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert "congsync-serve.service:" not in result.stderr, result.stderr


def test_print_unit_prints_without_installing(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    root = tmp_path / "share"
    root.mkdir()
    code = main(["serve", "--root", str(root), "--install-service", "--print-unit"])
    assert code == 0
    assert "[Service]" in capsys.readouterr().out
    assert not (tmp_path / "cfg").exists()
