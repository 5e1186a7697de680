"""Autostart: the login entry per platform (pure), and `congsync autostart on|off|status` for real on Linux."""

from __future__ import annotations

import importlib.util
import os
import plistlib
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import ModuleType

import pytest

from daemon.cli import main
from daemon.errors import ConfigError, ExitCode
from daemon.service import autostart
from daemon.service.autostart import (
    MARKER,
    AutostartEntry,
    EntryState,
    autostart_entry,
    classify,
    current_platform,
    systemd_entry,
)

REPO = Path(__file__).resolve().parents[2]
LINUX_PYTHON = "/home/ann/venvs/congsync/bin/python"
MACOS_PYTHON = "/Users/ann/venvs/congsync/bin/python"
WINDOWS_PYTHON = "C:\\Users\\Ann\\venvs\\congsync\\Scripts\\python.exe"
WINDOWS_APPDATA = "C:\\Users\\Ann\\AppData\\Roaming"
WINDOWS_STARTUP = WINDOWS_APPDATA + "\\Microsoft\\Windows\\Start Menu\\Programs\\Startup"


def desktop_key(content: str, key: str) -> str:
    values = [line.split("=", 1)[1] for line in content.splitlines() if line.startswith(key + "=")]
    assert len(values) == 1, content
    return values[0]


def split_desktop_exec(value: str) -> list[str]:
    """Undo a desktop file's Exec value the way the Desktop Entry Specification says a desktop does."""
    unescaped = []
    chars = iter(value)
    for ch in chars:  # first the string-value escapes
        if ch == "\\":
            nxt = next(chars)
            unescaped.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[nxt])
        else:
            unescaped.append(ch)
    args: list[str] = []
    current: list[str] | None = None
    quoted = False
    chars = iter("".join(unescaped))
    for ch in chars:  # then the Exec quoting
        if quoted:
            if ch == "\\":
                current_ch = next(chars)
                assert current_ch in '"`$\\'
                assert current is not None
                current.append(current_ch)
            elif ch == '"':
                quoted = False
            else:
                assert current is not None
                current.append(ch)
        elif ch == " ":
            if current is not None:
                args.append("".join(current))
            current = None
        elif ch == '"':
            current = current if current is not None else []
            quoted = True
        else:
            current = current if current is not None else []
            current.append(ch)
    if current is not None:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


# -- pure: Linux ---------------------------------------------------------------------------


def test_linux_entry_goes_to_the_xdg_autostart_folder_in_the_home_folder_by_default():
    entry = autostart_entry("linux", interpreter=LINUX_PYTHON, env={}, home="/home/ann")

    assert entry.path == PurePosixPath("/home/ann/.config/autostart/congsync.desktop")


def test_linux_entry_honours_xdg_config_home_but_not_a_relative_one():
    moved = autostart_entry(
        "linux", interpreter=LINUX_PYTHON, env={"XDG_CONFIG_HOME": "/cfg"}, home="/home/ann"
    )
    relative = autostart_entry(
        "linux", interpreter=LINUX_PYTHON, env={"XDG_CONFIG_HOME": "cfg"}, home="/home/ann"
    )

    assert moved.path == PurePosixPath("/cfg/autostart/congsync.desktop")
    assert relative.path == PurePosixPath("/home/ann/.config/autostart/congsync.desktop")


def test_linux_entry_runs_the_daemon_with_this_interpreter_and_is_enabled_for_gnome():
    entry = autostart_entry("linux", interpreter=LINUX_PYTHON, env={}, home="/home/ann")

    assert split_desktop_exec(desktop_key(entry.content, "Exec")) == [
        LINUX_PYTHON,
        "-m",
        "daemon",
        "run",
    ]
    assert desktop_key(entry.content, "X-GNOME-Autostart-enabled") == "true"
    assert desktop_key(entry.content, "Type") == "Application"
    assert entry.content.startswith("[Desktop Entry]\n")
    assert MARKER in entry.content


def test_linux_entry_passes_congsync_config_on_through_env():
    entry = autostart_entry(
        "linux",
        interpreter=LINUX_PYTHON,
        env={"CONGSYNC_CONFIG": "/home/ann/second.toml"},
        home="/home/ann",
    )

    assert split_desktop_exec(desktop_key(entry.content, "Exec")) == [
        "env",
        "CONGSYNC_CONFIG=/home/ann/second.toml",
        LINUX_PYTHON,
        "-m",
        "daemon",
        "run",
    ]


def test_linux_entry_quotes_awkward_paths_so_the_desktop_gets_them_back_unchanged():
    python = '/home/ann/my venvs/100% "real"/$HOME\\bin/python'
    config = "/home/ann/Meeting media & more/config.toml"

    entry = autostart_entry(
        "linux", interpreter=python, env={"CONGSYNC_CONFIG": config}, home="/home/ann"
    )

    assert split_desktop_exec(desktop_key(entry.content, "Exec")) == [
        "env",
        f"CONGSYNC_CONFIG={config}",
        python,
        "-m",
        "daemon",
        "run",
    ]


def test_a_path_with_a_newline_is_refused_rather_than_written_into_the_entry():
    with pytest.raises(ConfigError):
        autostart_entry("linux", interpreter="/tmp/a\nExec=evil", env={}, home="/home/ann")


def test_systemd_unit_runs_without_the_tray_and_restarts_on_failure():
    entry = systemd_entry(
        interpreter=LINUX_PYTHON,
        env={"XDG_CONFIG_HOME": "/cfg", "CONGSYNC_CONFIG": "/home/ann/second.toml"},
        home="/home/ann",
    )

    assert entry.path == PurePosixPath("/cfg/systemd/user/congsync.service")
    lines = entry.content.splitlines()
    assert f"ExecStart={LINUX_PYTHON} -m daemon run --no-tray" in lines
    assert "Restart=on-failure" in lines
    assert 'Environment="CONGSYNC_CONFIG=/home/ann/second.toml"' in lines
    assert "WantedBy=default.target" in lines
    assert MARKER in entry.content


def test_systemd_unit_escapes_specifiers_and_quotes_spaces():
    entry = systemd_entry(interpreter="/opt/my env/100%/python", env={}, home="/home/ann")

    assert 'ExecStart="/opt/my env/100%%/python" -m daemon run --no-tray' in (
        entry.content.splitlines()
    )


# -- pure: macOS ---------------------------------------------------------------------------


def test_macos_entry_is_a_launch_agent_that_runs_at_load_and_restarts_only_after_a_crash():
    entry = autostart_entry("macos", interpreter=MACOS_PYTHON, env={}, home="/Users/ann")

    assert entry.path == PurePosixPath("/Users/ann/Library/LaunchAgents/org.congsync.agent.plist")
    agent = plistlib.loads(entry.content.encode())
    assert agent["Label"] == "org.congsync.agent"
    assert agent["ProgramArguments"] == [MACOS_PYTHON, "-m", "daemon", "run"]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert "EnvironmentVariables" not in agent
    assert MARKER in entry.content


def test_macos_entry_passes_congsync_config_on_as_an_environment_variable():
    entry = autostart_entry(
        "macos",
        interpreter=MACOS_PYTHON,
        env={"CONGSYNC_CONFIG": "/Users/ann/second & <third>.toml"},
        home="/Users/ann",
    )

    agent = plistlib.loads(entry.content.encode())
    assert agent["EnvironmentVariables"] == {"CONGSYNC_CONFIG": "/Users/ann/second & <third>.toml"}


# -- pure: Windows -------------------------------------------------------------------------


def test_windows_entry_is_a_cmd_in_the_startup_folder_that_starts_pythonw():
    entry = autostart_entry(
        "windows",
        interpreter=WINDOWS_PYTHON,
        env={"APPDATA": WINDOWS_APPDATA},
        home="C:\\Users\\Ann",
        pythonw_available=True,
    )

    assert entry.path == PureWindowsPath(WINDOWS_STARTUP + "\\congsync.cmd")
    lines = entry.content.split("\r\n")
    pythonw = "C:\\Users\\Ann\\venvs\\congsync\\Scripts\\pythonw.exe"
    assert f'start "" "{pythonw}" -m daemon run' in lines
    assert lines[0] == "@echo off"
    assert MARKER in entry.content


def test_windows_entry_falls_back_to_python_exe_without_pythonw():
    entry = autostart_entry(
        "windows",
        interpreter=WINDOWS_PYTHON,
        env={"APPDATA": WINDOWS_APPDATA},
        home="C:\\Users\\Ann",
        pythonw_available=False,
    )

    assert f'start "" "{WINDOWS_PYTHON}" -m daemon run' in entry.content.split("\r\n")


def test_windows_entry_uses_crlf_line_endings_only():
    entry = autostart_entry("windows", interpreter=WINDOWS_PYTHON, env={}, home="C:\\Users\\Ann")

    assert entry.content.endswith("\r\n")
    assert "\n" not in entry.content.replace("\r\n", "")


def test_windows_entry_without_appdata_uses_the_roaming_folder_in_the_home_folder():
    entry = autostart_entry("windows", interpreter=WINDOWS_PYTHON, env={}, home="C:\\Users\\Ann")

    assert entry.path == PureWindowsPath(WINDOWS_STARTUP + "\\congsync.cmd")


def test_windows_entry_sets_congsync_config_with_percent_signs_doubled():
    entry = autostart_entry(
        "windows",
        interpreter=WINDOWS_PYTHON,
        env={"APPDATA": WINDOWS_APPDATA, "CONGSYNC_CONFIG": "D:\\100% media\\second.toml"},
        home="C:\\Users\\Ann",
    )

    lines = entry.content.split("\r\n")
    assert 'set "CONGSYNC_CONFIG=D:\\100%% media\\second.toml"' in lines
    assert lines.index('set "CONGSYNC_CONFIG=D:\\100%% media\\second.toml"') < next(
        i for i, line in enumerate(lines) if line.startswith("start ")
    )


# -- pure: all platforms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "interpreter", "home"),
    [
        ("linux", LINUX_PYTHON, "/home/ann"),
        ("macos", MACOS_PYTHON, "/Users/ann"),
        ("windows", WINDOWS_PYTHON, "C:\\Users\\Ann"),
    ],
)
def test_no_entry_ever_carries_a_password(platform, interpreter, home):
    env = {"CONGSYNC_PASSWORD": "s3cret-pass", "CONGSYNC_CONFIG": "/p/config.toml"}

    entry = autostart_entry(platform, interpreter=interpreter, env=env, home=home)

    assert "s3cret-pass" not in entry.content
    assert "CONGSYNC_PASSWORD" not in entry.content


def test_sys_platform_names_map_to_the_three_autostart_flavours():
    assert current_platform("win32") == "windows"
    assert current_platform("darwin") == "macos"
    assert current_platform("linux") == "linux"
    assert current_platform("freebsd14") == "linux"


def test_an_existing_file_is_told_apart_as_ours_up_to_date_ours_outdated_or_foreign():
    entry = AutostartEntry(PurePosixPath("/x"), f"# {MARKER}\r\nExec=a\r\n")

    assert classify(entry, None) is EntryState.OFF
    assert classify(entry, f"# {MARKER}\nExec=a\n") is EntryState.ON
    assert classify(entry, f"# {MARKER}\nExec=b\n") is EntryState.OUTDATED
    assert classify(entry, "Exec=a\n") is EntryState.FOREIGN


def load_render() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render", REPO / "packaging" / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_packaging_templates_are_what_the_code_generates():
    rendered: dict[Path, str] = load_render().render()

    assert len(rendered) == 4
    for path, content in rendered.items():
        # Line endings compared loosely: git may check the .cmd out either way on a developer's box.
        committed = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        assert committed == content.replace("\r\n", "\n"), (
            f"run python packaging/render.py ({path})"
        )


# -- for real on Linux, through the CLI ----------------------------------------------------

linux_only = pytest.mark.skipif(
    current_platform() != "linux", reason="writes the XDG entry of this platform"
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home folder and XDG_CONFIG_HOME, so that nothing touches the real ones."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    assert Path.home() == home
    return home


def desktop_file(home: Path) -> Path:
    return home / ".config" / "autostart" / "congsync.desktop"


def unit_file(home: Path) -> Path:
    return home / ".config" / "systemd" / "user" / "congsync.service"


@linux_only
def test_on_writes_an_entry_that_runs_this_interpreter(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv("CONGSYNC_CONFIG")

    assert main(["autostart", "on"]) == 0

    content = desktop_file(home).read_text()
    assert split_desktop_exec(desktop_key(content, "Exec")) == [
        os.path.abspath(sys.executable),
        "-m",
        "daemon",
        "run",
    ]
    assert str(desktop_file(home)) in capsys.readouterr().out
    assert [p.name for p in desktop_file(home).parent.iterdir()] == ["congsync.desktop"]


@linux_only
def test_on_passes_congsync_config_on_made_absolute(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONGSYNC_CONFIG", "profiles/second.toml")
    monkeypatch.setenv("CONGSYNC_PASSWORD", "s3cret-pass")

    assert main(["autostart", "on"]) == 0

    content = desktop_file(home).read_text()
    argv = split_desktop_exec(desktop_key(content, "Exec"))
    assert argv[:2] == ["env", f"CONGSYNC_CONFIG={tmp_path / 'profiles' / 'second.toml'}"]
    assert "s3cret-pass" not in content


@linux_only
def test_status_says_on_and_where_after_on_and_off_after_off(
    home: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["autostart", "status"]) == 0
    assert "Autostart is off" in capsys.readouterr().out

    main(["autostart", "on"])
    capsys.readouterr()
    assert main(["autostart", "status"]) == 0
    out = capsys.readouterr().out
    assert "Autostart is on" in out and str(desktop_file(home)) in out

    main(["autostart", "off"])
    capsys.readouterr()
    assert main(["autostart", "status"]) == 0
    assert "Autostart is off" in capsys.readouterr().out


@linux_only
def test_off_removes_the_entry_and_a_second_off_says_it_was_already_off(
    home: Path, capsys: pytest.CaptureFixture[str]
):
    main(["autostart", "on"])

    assert main(["autostart", "off"]) == 0
    assert not desktop_file(home).exists()
    capsys.readouterr()
    assert main(["autostart", "off"]) == 0
    assert "already off" in capsys.readouterr().out


@linux_only
def test_on_twice_leaves_the_entry_as_it_is(home: Path, capsys: pytest.CaptureFixture[str]):
    main(["autostart", "on"])
    before = desktop_file(home).read_bytes()
    capsys.readouterr()

    assert main(["autostart", "on"]) == 0

    assert desktop_file(home).read_bytes() == before
    assert "already on" in capsys.readouterr().out


@linux_only
def test_on_updates_an_entry_congsync_wrote_for_another_python(
    home: Path, capsys: pytest.CaptureFixture[str]
):
    main(["autostart", "on"])
    old = desktop_file(home).read_text().replace(sys.executable, "/old/venv/bin/python")
    desktop_file(home).write_text(old)
    main(["autostart", "status"])
    assert "another Python" in capsys.readouterr().out

    assert main(["autostart", "on"]) == 0

    assert "/old/venv" not in desktop_file(home).read_text()


@linux_only
def test_off_refuses_to_delete_a_file_congsync_did_not_write(
    home: Path, capsys: pytest.CaptureFixture[str]
):
    desktop_file(home).parent.mkdir(parents=True)
    desktop_file(home).write_text("[Desktop Entry]\nName=mine\nExec=my-own congsync run\n")

    code = main(["autostart", "off"])

    assert code == ExitCode.LOCAL
    assert desktop_file(home).read_text().startswith("[Desktop Entry]\nName=mine")
    err = capsys.readouterr().err
    assert str(desktop_file(home)) in err and "not written by congsync" in err


@linux_only
def test_on_refuses_to_overwrite_a_file_congsync_did_not_write(home: Path):
    desktop_file(home).parent.mkdir(parents=True)
    desktop_file(home).write_text("[Desktop Entry]\nName=mine\n")

    assert main(["autostart", "on"]) == ExitCode.LOCAL
    assert desktop_file(home).read_text() == "[Desktop Entry]\nName=mine\n"


@linux_only
def test_on_systemd_installs_the_unit_and_says_which_systemctl_line_to_run(
    home: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["autostart", "on", "--systemd"]) == 0

    assert "--no-tray" in unit_file(home).read_text()
    assert not desktop_file(home).exists()
    assert "systemctl --user enable --now congsync" in capsys.readouterr().out
    main(["autostart", "status"])
    assert str(unit_file(home)) in capsys.readouterr().out


@linux_only
def test_off_systemd_refuses_while_the_unit_is_enabled_then_removes_it(
    home: Path, capsys: pytest.CaptureFixture[str]
):
    main(["autostart", "on", "--systemd"])
    wants = unit_file(home).parent / "default.target.wants"
    wants.mkdir()
    (wants / "congsync.service").symlink_to(unit_file(home))
    capsys.readouterr()

    assert main(["autostart", "off", "--systemd"]) == ExitCode.LOCAL
    assert "systemctl --user disable --now congsync" in capsys.readouterr().err
    assert unit_file(home).exists()

    (wants / "congsync.service").unlink()
    assert main(["autostart", "off", "--systemd"]) == 0
    assert not unit_file(home).exists()


@linux_only
def test_a_failed_write_leaves_no_entry_and_no_temporary_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(autostart.os, "fsync", full_disk)

    assert main(["autostart", "on"]) == ExitCode.LOCAL
    assert list(desktop_file(home).parent.iterdir()) == []
