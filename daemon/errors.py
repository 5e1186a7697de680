"""congsync's error tree: raised by the shell, turned into one plain sentence at the edge.

Every error carries a fact, `text` (a `daemon.i18n.Text`: a message and its values), that each
face says in its user's language when it shows it (`message`), while `str(error)` is the English
sentence for logs; and an exit code family that the CLI uses, so that scripts can tell
configuration, authentication and network/server failures apart.
"""

from __future__ import annotations

from enum import IntEnum

from daemon.i18n import Text, as_text, fact


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a sync finished but some files failed
    CONFIG = 2
    AUTH = 3
    NETWORK = 4
    SERVER = 5
    UNSAFE = 6  # a safety stop that awaits confirmation
    LOCAL = 7  # the local disk refused (full, unreadable, permissions)
    NOT_RUNNING = 8  # a command for the daemon, and no daemon runs


class CongsyncError(Exception):
    """Something congsync cannot do; `message` says what and what to do about it."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str | Text) -> None:
        self.text = as_text(message)
        super().__init__(self.text.english())  # str(error): English, for the log

    @property
    def message(self) -> str:
        """The sentence in the current language (translated now, when it is shown)."""
        return str(self.text)


class ConfigError(CongsyncError):
    """The configuration is missing, unreadable or invalid."""

    exit_code = ExitCode.CONFIG


class CredentialsError(CongsyncError):
    """No password could be found, or the keyring refused to store it."""

    exit_code = ExitCode.AUTH


class AuthError(CongsyncError):
    """The server rejected the username or password (401)."""

    exit_code = ExitCode.AUTH


class NetworkError(CongsyncError):
    """The server could not be reached (DNS, refused, timeout, connection dropped)."""

    exit_code = ExitCode.NETWORK


class TLSError(NetworkError):
    """The TLS handshake failed, usually because the certificate is not trusted."""


class ServerError(CongsyncError):
    """The server answered, but refused or failed the request."""

    exit_code = ExitCode.SERVER

    def __init__(self, message: str | Text, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(ServerError):
    """The server asked us to slow down (429/503), possibly saying for how long."""

    def __init__(self, message: str | Text, status: int, retry_after: float | None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class PreconditionFailed(ServerError):
    """A conditional request found the resource changed: not the expected version, or it now exists."""

    def __init__(self, message: str | Text) -> None:
        super().__init__(message, 412)


class NotFound(ServerError):
    """The path does not exist on the server (404)."""


class NotWebDAV(ServerError):
    """The server does not speak WebDAV at this address."""


class HostileResponse(ServerError):
    """The server's answer is malformed or points outside the congregation folder."""


class FolderMissing(CongsyncError):
    """The congregation folder or its `Media/` folder is gone from the server."""

    exit_code = ExitCode.UNSAFE


class UnsafeToProceed(CongsyncError):
    """A sync would delete too much or act on a suspicious listing; it awaits confirmation."""

    exit_code = ExitCode.UNSAFE


class LocalDiskError(CongsyncError):
    """The local disk refused a write or read (full, permissions, unreadable file)."""

    exit_code = ExitCode.LOCAL


class LocalChanged(LocalDiskError):
    """A local file changed while it was being uploaded; it is uploaded again once stable."""


class ConversionError(CongsyncError):
    """A downloaded PDF, SVG or HEIC file cannot be made into images (corrupt, encrypted, odd);
    its original stays under `.congsync/originals/`."""

    exit_code = ExitCode.LOCAL


class AutostartError(CongsyncError):
    """An autostart file is in the way or still in use, so congsync leaves it alone."""

    exit_code = ExitCode.LOCAL


class Cancelled(CongsyncError):
    """The operation was cancelled (shutdown or pause); partial work is kept for later."""


class RoleError(CongsyncError):
    """A member tried to write to the server; only organizers may."""

    exit_code = ExitCode.CONFIG


class AlreadyRunning(CongsyncError):
    """Another congsync daemon already runs for this configuration."""

    exit_code = ExitCode.FAILURE

    def __init__(self, pid: int | None) -> None:
        if pid is None:
            message = fact("congsync is already running for this configuration.")
        else:
            message = fact(
                "congsync is already running for this configuration (process {pid}).", pid=pid
            )
        super().__init__(message)
        self.pid = pid


class DaemonNotRunning(CongsyncError):
    """A command for the daemon, and no daemon runs for this configuration."""

    exit_code = ExitCode.NOT_RUNNING

    def __init__(self, message: str | Text | None = None) -> None:
        super().__init__(message or fact("congsync is not running. Start it with: congsync run"))


class ControlError(CongsyncError):
    """The daemon's control endpoint answered, but not as expected."""


class RequestRefused(CongsyncError):
    """The control endpoint refuses a request; `status` is the HTTP status it answers with."""

    def __init__(self, status: int, message: str | Text) -> None:
        super().__init__(message)
        self.status = status


class TrayUnavailable(CongsyncError):
    """No tray icon can be shown here (no display, no tray library backend, no tray host)."""


class CertificatePinMismatch(TLSError):
    """The server's certificate is not the one whose SHA-256 fingerprint setup pinned."""


class AccountsError(ConfigError):
    """The accounts file of `congsync serve` is missing, unreadable, or names no such user."""
