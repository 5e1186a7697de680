"""`congsync open`: a one-time sign-in address for the running daemon's panel, in the browser.

A real `congsync run --no-tray` (the `installation` fixture) answers; the browser is plain
httpx, which is all a sign-in needs: the address answers 303 with the session cookie once,
and 403 after that. For the browser itself, `congsync open` goes through Python's
`webbrowser`, which starts whatever the BROWSER variable names; a small script there records
the address it is handed, exactly as a volunteer's browser would get it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from davserver import DavFixture
from installation import Installation, wait_until


def browse(url: str) -> httpx.Client:
    """A fresh browser (no cookies) at the address's own origin."""
    parts = urlsplit(url)
    return httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", trust_env=False, timeout=10)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def recording_browser(folder: Path) -> tuple[Path, Path]:
    """A BROWSER command that writes each address it is given, one a line, into a file."""
    record = folder / "opened.txt"
    script = folder / "browser"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"with open({str(record)!r}, 'a', encoding='utf-8') as out:\n"
        "    out.write(sys.argv[1] + '\\n')\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script, record


def opened(record: Path) -> list[str]:
    return record.read_text(encoding="utf-8").split() if record.exists() else []


def test_print_url_prints_an_address_that_signs_a_browser_in_once(installation: Installation):
    done = installation.cli("open", "--print-url")
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("http://127.0.0.1:")
    assert parse_qs(urlsplit(url).query)["next"] == ["/status"]  # the default page
    with browse(url) as browser:
        signed_in = browser.get(path_of(url))
        assert signed_in.status_code == 303
        assert signed_in.headers["Location"] == "/status"
        cookie = signed_in.headers["Set-Cookie"]
        assert cookie.startswith("congsync_session_")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/status").status_code == 200
    with browse(url) as someone_else:
        again = someone_else.get(path_of(url))
        assert again.status_code == 403
        assert "congsync open" in again.text
        assert someone_else.get("/status").status_code == 401


def test_each_page_gets_its_own_address(installation: Installation):
    addresses = set()
    for page in ("status", "setup", "media"):
        done = installation.cli("open", page, "--print-url")
        assert done.returncode == 0, done.stderr
        url = done.stdout.strip()
        addresses.add(url)
        with browse(url) as browser:
            assert browser.get(path_of(url)).headers["Location"] == f"/{page}"
    assert len(addresses) == 3


def test_open_hands_the_address_to_the_browser(installation: Installation, tmp_path: Path):
    script, record = recording_browser(tmp_path)
    installation.env["BROWSER"] = str(script)
    done = installation.cli("open", "media")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # the address went to the browser, not onto the terminal
    (url,) = wait_until(lambda: opened(record))
    with browse(url) as browser:
        assert browser.get(path_of(url)).headers["Location"] == "/media"


def test_without_a_running_daemon_open_says_so(dav: DavFixture, tmp_path: Path):
    installed = Installation(dav, tmp_path / "home")  # configured, never started
    for args in (("open", "--print-url"), ("open", "setup")):
        done = installed.cli(*args)
        assert done.returncode == 8, done.stderr  # DaemonNotRunning
        assert "congsync is not running" in done.stderr
        assert done.stdout == ""
