"""congsync's log: a rotating file in the platform log folder, stderr, and no secrets in either.

Every handler set up here carries `RedactingFilter`, which removes `Authorization` headers,
`Basic …`/`Bearer …` credentials, passwords in URLs or `password=` pairs, and every value
given to `register_secret` (the WebDAV password, the control secret) before anything is
written. The filter sits on the handlers, not on a logger, so that records from any library
that propagate to the root logger are redacted too.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

from daemon.paths import Paths

MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
REDACTED = "***"

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Libraries that log request lines, headers or each scheduler run at INFO/DEBUG.
_QUIET_LIBRARIES = ("httpx", "httpcore", "apscheduler", "urllib3", "webdav4", "wsgidav", "cheroot")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Basic abc", "'authorization': 'Bearer x'", "Proxy-Authorization=…"
    (
        re.compile(r"""((?:proxy-)?authorization['"]?\s*[:=]\s*['"]?)[^'"\r\n,;}]+""", re.I),
        r"\1" + REDACTED,
    ),
    # A credential after its scheme name (short words such as "Basic setup" are left alone).
    (re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}"), r"\1 " + REDACTED),
    # https://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@", re.I), r"\1" + REDACTED + "@"),
    # password=…, "password": "…", secret: …
    (
        re.compile(r"""((?:password|passwd|secret|token)['"]?\s*[:=]\s*['"]?)[^'"\s,;}&]+""", re.I),
        r"\1" + REDACTED,
    ),
)

_secrets_lock = threading.Lock()
_secrets: list[str] = []


# Shorter values are ignored: replacing every "ab" would wreck the log while protecting nothing.
MIN_SECRET_LENGTH = 4


def register_secret(value: str | None) -> None:
    """Never let `value` reach a log line (the password, the control secret …)."""
    if value is None or len(value.strip()) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if value not in _secrets:
            _secrets.append(value)
            # Longest first, so a secret containing another is removed whole.
            _secrets.sort(key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every known secret and credential-looking fragment replaced by ***."""
    with _secrets_lock:
        known = list(_secrets)
    for value in known:
        text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, arguments and traceback text without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!r} {record.args!r}"  # a broken format string still logs
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _ReopeningFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log that opens its file again when it was removed or replaced (the state
    folder deleted under a running daemon), as WatchedFileHandler does, so `congsync logs`
    keeps showing what the daemon says."""

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is not None:
            try:
                on_disk = os.stat(self.baseFilename)
                held = os.fstat(self.stream.fileno())
                gone = (on_disk.st_dev, on_disk.st_ino) != (held.st_dev, held.st_ino)
            except OSError:
                gone = True
            if gone:
                self.stream.close()
                self.stream = None
                # If it cannot be made, emitting reports what cannot be opened.
                with contextlib.suppress(OSError):
                    os.makedirs(os.path.dirname(self.baseFilename), mode=0o700, exist_ok=True)
        super().emit(record)


def setup_logging(paths: Paths, verbose: bool = False, *, to_file: bool = True) -> None:
    """Send congsync's log to the rotating file (when `to_file`) and warnings to stderr.

    Only the process that owns the state (the daemon, or a one-off sync) should write the
    file; CLI commands that merely talk to a running daemon pass `to_file=False`, so that two
    processes never rotate the same file. Calling it again replaces the earlier setup.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_congsync", False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter(_FORMAT)
    redactor = RedactingFilter()
    handlers: list[logging.Handler] = []

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    handlers.append(console)

    if to_file:
        paths.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_handler = _ReopeningFileHandler(
            paths.log_file, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        handlers.append(file_handler)

    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redactor)
        _mark(handler)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in _QUIET_LIBRARIES:
        # httpcore logs headers at DEBUG; the redactor would catch them, but quieter is safer.
        logging.getLogger(name).setLevel(logging.WARNING)


def tail_log(paths: Paths, lines: int = 200) -> list[str]:
    """The last `lines` lines of the log (reaching into rotated files if needed), oldest first."""
    if lines <= 0:
        return []
    collected: list[str] = []
    files = [paths.log_file] + [
        paths.log_file.with_name(f"{paths.log_file.name}.{n}") for n in range(1, BACKUP_COUNT + 1)
    ]
    for path in files:
        found = _last_lines(path, lines - len(collected))
        if found is None:
            continue
        collected = found + collected
        if len(collected) >= lines:
            break
    return collected[-lines:]


_TAIL_CHUNK = 64 * 1024


def _last_lines(path: Path, wanted: int) -> list[str] | None:
    """The last `wanted` lines of a file (all of it if shorter), reading from its end only as
    far as needed: the panel shows the tail every time the status changes."""
    try:
        with open(path, "rb") as fh:
            end = fh.seek(0, 2)
            start = end
            data = b""
            while start > 0 and data.count(b"\n") <= wanted:
                start = max(0, start - _TAIL_CHUNK)
                fh.seek(start)
                data = fh.read(end - start)
    except FileNotFoundError:
        return None
    found = data.decode("utf-8", errors="replace").splitlines()
    if start > 0:
        found = found[1:]  # the first line may be cut
    return found[-wanted:] if wanted > 0 else []


def _mark(handler: Any) -> None:
    # Lets a second setup_logging() find and replace the handlers of the first.
    handler._congsync = True
