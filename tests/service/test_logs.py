"""The log: a rotating file in the log folder, warnings on stderr, and never a password or Authorization header."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from daemon.paths import Paths
from daemon.service import logs
from daemon.service.logs import redact, register_secret, setup_logging, tail_log

PASSWORD = "correct-horse-battery"


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(
        config_file=tmp_path / "config.toml", state_dir=tmp_path, log_dir=tmp_path / "logs"
    )


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """setup_logging changes the root logger; put it back after each test."""
    root = logging.getLogger()
    level = root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    for handler in list(root.handlers):
        if getattr(handler, "_congsync", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def log_text(paths: Paths) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return paths.log_file.read_text(encoding="utf-8")


def test_the_log_file_lives_in_the_log_folder_and_gets_info(paths: Paths) -> None:
    setup_logging(paths)
    logging.getLogger("daemon.test").info("Sync cycle finished: %d downloaded", 3)
    assert paths.log_file.parent == paths.log_dir
    assert "Sync cycle finished: 3 downloaded" in log_text(paths)


def test_stderr_gets_warnings_only_unless_verbose(
    paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(paths)
    logging.getLogger("daemon.test").info("quiet detail")
    logging.getLogger("daemon.test").warning("loud problem")
    err = capsys.readouterr().err
    assert "loud problem" in err
    assert "quiet detail" not in err

    setup_logging(paths, verbose=True)
    logging.getLogger("daemon.test").info("now shown")
    assert "now shown" in capsys.readouterr().err


def test_setting_up_twice_does_not_duplicate_lines(paths: Paths) -> None:
    setup_logging(paths)
    setup_logging(paths)
    logging.getLogger("daemon.test").warning("once")
    assert log_text(paths).count("once") == 1


def test_authorization_headers_never_reach_the_log(paths: Paths) -> None:
    setup_logging(paths, verbose=True)
    basic = base64.b64encode(f"vo:{PASSWORD}".encode()).decode()
    library = logging.getLogger("webdav4.client")
    library.setLevel(logging.DEBUG)
    library.warning("request headers: %s", {"Authorization": f"Basic {basic}", "Depth": "1"})
    logging.getLogger("daemon.test").warning("Authorization: Bearer abcdefghijklmnop")
    logging.getLogger("daemon.test").warning("raw header line b'authorization: Basic %s'", basic)
    text = log_text(paths)
    assert basic not in text
    assert "abcdefghijklmnop" not in text
    assert "Depth" in text  # the rest of the line stays readable
    assert text.count("***") >= 3


def test_registered_secrets_are_redacted_everywhere(paths: Paths) -> None:
    register_secret(PASSWORD)
    setup_logging(paths)
    log = logging.getLogger("daemon.test")
    log.warning("login with %s failed", PASSWORD)
    try:
        raise ValueError(f"server echoed {PASSWORD}")
    except ValueError:
        log.exception("request failed")
    text = log_text(paths)
    assert PASSWORD not in text
    assert "login with *** failed" in text
    assert "server echoed ***" in text


def test_very_short_values_are_not_treated_as_secrets() -> None:
    register_secret("ab")
    assert redact("about a cab") == "about a cab"


def test_passwords_in_urls_and_settings_are_redacted() -> None:
    assert redact("GET https://vo:hunter22@dav.example.org/x") == (
        "GET https://vo:***@dav.example.org/x"
    )
    assert redact('{"password": "hunter22"}') == '{"password": "***"}'
    assert redact("password=hunter22&user=vo") == "password=***&user=vo"


def test_http_client_libraries_are_quiet(paths: Paths) -> None:
    setup_logging(paths, verbose=True)
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING


def test_the_log_rotates_at_one_megabyte_keeping_five(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_logging(paths)
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]
    assert (handler.maxBytes, handler.backupCount) == (1_000_000, 5)

    # The same behaviour, ten kilobytes at a time, to keep the test quick.
    monkeypatch.setattr(logs, "MAX_BYTES", 10_000)
    setup_logging(paths)
    log = logging.getLogger("daemon.test")
    for n in range(100):
        log.info("%05d %s", n, "x" * 1000)
    files = sorted(p.name for p in paths.log_dir.iterdir())
    assert files == [f"congsync.log{suffix}" for suffix in ("", ".1", ".2", ".3", ".4", ".5")]
    assert all(p.stat().st_size <= 10_000 for p in paths.log_dir.iterdir())
    assert tail_log(paths, lines=1)[0].endswith("00099 " + "x" * 1000)


def test_tail_shows_the_last_lines_reaching_into_rotated_files(paths: Paths) -> None:
    paths.log_dir.mkdir(parents=True)
    Path(f"{paths.log_file}.1").write_text("old 1\nold 2\n", encoding="utf-8")
    paths.log_file.write_text("new 1\nnew 2\n", encoding="utf-8")
    assert tail_log(paths, lines=3) == ["old 2", "new 1", "new 2"]
    assert tail_log(paths, lines=1) == ["new 2"]
    assert tail_log(paths, lines=10) == ["old 1", "old 2", "new 1", "new 2"]


def test_tail_of_no_log_is_empty(paths: Paths) -> None:
    assert tail_log(paths) == []


def test_a_removed_log_folder_is_made_again_and_logging_goes_on(paths: Paths) -> None:
    import shutil

    setup_logging(paths)
    logging.getLogger("daemon.test").info("before")
    shutil.rmtree(paths.log_dir)  # the state folder deleted under a running daemon
    logging.getLogger("daemon.test").info("after the folder went")
    assert any("after the folder went" in line for line in tail_log(paths))
