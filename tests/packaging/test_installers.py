"""The installer definitions that cannot run here, checked against their platforms' rules."""

from __future__ import annotations

import ast
import configparser
import plistlib
import re
from pathlib import Path

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
SPEC = PACKAGING / "pyinstaller" / "congsync.spec"


def _spec_calls(name: str) -> list[ast.Call]:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _keywords(call: ast.Call) -> dict[str, object]:
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ("name", "console")}


def test_the_spec_builds_a_console_command_and_a_windowless_tray_program():
    exes = {kw["name"]: kw["console"] for kw in map(_keywords, _spec_calls("EXE"))}
    assert exes == {"congsync": True, "congsync-tray": False}
    (collect,) = _spec_calls("COLLECT")
    assert _keywords(collect)["name"] == "congsync"  # one folder, dist/congsync/


def _iss() -> configparser.ConfigParser:
    text = (PACKAGING / "windows" / "congsync.iss").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith(("#", ";")))
    parser = configparser.ConfigParser(
        delimiters=("=",), comment_prefixes=(";",), strict=False, interpolation=None
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    # Entries of [Files], [Icons] and [Run] are lines, not keys: give each a number.
    numbered, counter = [], 0
    section = ""
    for line in body.splitlines():
        if line.startswith("["):
            section = line
            numbered.append(line)
        elif line.strip() and section != "[Setup]":
            counter += 1
            numbered.append(f"{counter}={line}")
        else:
            numbered.append(line)
    parser.read_string("\n".join(numbered))
    return parser


def test_the_windows_installer_needs_no_administrator_and_writes_only_the_users_folders():
    iss = _iss()
    setup = iss["Setup"]
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"].startswith("{localappdata}")
    text = (PACKAGING / "windows" / "congsync.iss").read_text(encoding="utf-8")
    # Per-machine places need administrator rights.
    for machine_wide in (
        "{pf}",
        "{autopf}",
        "{commonprograms}",
        "{commonstartup}",
        "HKLM",
        "{win}",
    ):
        assert machine_wide not in text


def test_the_windows_installer_adds_a_start_menu_entry_and_starts_at_login():
    icons = list(_iss()["Icons"].values())
    tray = r'Filename: "{app}\congsync-tray.exe"'
    assert any(i.startswith('Name: "{userprograms}\\') and tray in i for i in icons)
    assert any(i.startswith('Name: "{userstartup}\\') and tray in i for i in icons)
    runs = list(_iss()["Run"].values())
    assert any(tray in r and "postinstall" in r for r in runs)


def test_the_windows_installer_ships_the_folder_the_spec_builds():
    (source,) = [v for v in _iss()["Files"].values() if v.startswith("Source:")]
    match = re.match(r'Source: "([^"]+)"', source)
    assert match is not None
    assert match.group(1).replace("\\", "/").endswith("build/dist/congsync/*")


def test_the_macos_launch_agent_starts_the_apps_tray_program_at_login():
    path = PACKAGING / "macos" / "org.congsync.app.plist"
    agent = plistlib.loads(path.read_bytes())
    assert agent["Label"] == path.stem  # launchd's convention: the file is named by its label
    assert agent["ProgramArguments"] == ["/Applications/congsync.app/Contents/MacOS/congsync-tray"]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}  # quitting from the menu stays quit
    (bundle,) = _spec_calls("BUNDLE")
    assert _keywords(bundle)["name"] == "congsync.app"
