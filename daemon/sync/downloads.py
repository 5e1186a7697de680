"""Carries out a plan's downloads in parallel: resumable temp files, verification, post-download
steps, atomic rename into the date folder, journal entry.

A post-download step may turn one download into several files for the date folder (a PDF into
its pages): each is installed and owned under its own name, all recorded with the placement
(the name the plan gave the download), the remote file and its version. Without a step that
applies, the download is installed as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from daemon.core.conversions import conversion_kind
from daemon.core.member_plan import Download
from daemon.core.records import DifferingFile, LocalFile, OwnedFile, RemoteFile
from daemon.core.transfer_rules import share_downloads
from daemon.dav import DavClient, parse_http_date
from daemon.errors import Cancelled, CongsyncError, ConversionError
from daemon.i18n import _
from daemon.sync.background import Background
from daemon.sync.discovery import to_remote_entry
from daemon.sync.journal import Journal
from daemon.sync.local_copies import copy_flushed
from daemon.sync.media_folder import MediaFolder, same_content
from daemon.sync.progress import Progress, ProgressMeter
from daemon.sync.unconverted import note_unconverted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Output:
    """One file a download becomes in its date folder."""

    name: str  # the local name in the date folder
    path: Path  # the complete file, on the media folder's file system (renamed into place)


class PostDownloadStep(Protocol):
    """Turns a complete download into the files presentation software can show.

    Called with the verified download, the name the plan placed it under and a private
    working folder on the same file system. Returns the outputs, or None when the step does
    not apply to this file. Raises CongsyncError when the file cannot be converted.
    """

    def __call__(self, download: Path, name: str, workdir: Path) -> list[Output] | None: ...


@dataclass
class Outcome:
    action: Download
    error: CongsyncError | None = None
    size: int = 0
    warnings: list[str] = field(default_factory=list)
    kept: bool = False  # the place holds the user's own file, which differs: nothing installed
    not_converted: str = ""  # why a step could not convert it (the original is kept aside)


@dataclass(frozen=True)
class Installer:
    """How one cycle installs downloads: the media folder, the journal, what it already owns."""

    media: MediaFolder
    journal: Journal
    owned: Mapping[tuple[str, str], OwnedFile]
    steps: Sequence[PostDownloadStep] = ()
    # (date, name) -> (version, reason) of downloads known not to convert
    unconverted: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def _may_convert(self, name: str) -> bool:
        return any(getattr(step, "applies", lambda _n: True)(name) for step in self.steps)

    def off_transfer_path(self, action: Download) -> bool:
        """Whether a step that takes time (a conversion) applies: then it runs in the background
        while the download workers go on."""
        return any(getattr(step, "applies", lambda _n: False)(action.name) for step in self.steps)

    def reuse_here(self, action: Download, partial: Path) -> bool:
        """Copy the server's version of a convertible file from where it already is (the original
        under `.congsync/originals/`, or the download as it is in the date folder) instead of
        fetching it again: the convert setting changed, or a page was deleted here."""
        if conversion_kind(action.name) is None:
            return False
        day, name, version = action.date, action.name, action.remote.version
        records = [r for (d, _n), r in self.owned.items() if d == day and r.placed_as == name]
        known = {r.version for r in records} or {self.unconverted.get((day, name), ("", ""))[0]}
        if known != {version}:
            return False
        as_is = next((r for r in records if r.name == name), None)
        source = self.media.original_path(day, name)
        if as_is is not None and self.media.stat(day, name) == LocalFile(
            as_is.size, as_is.mtime_ns
        ):
            source = self.media.file_path(day, name)
        try:
            size = source.stat().st_size
        except OSError:
            return False
        if action.remote.size is not None and size != action.remote.size:
            return False
        copy_flushed(source, partial)
        return True

    def not_converted(
        self, partial: Path, action: Download, problem: ConversionError, size: int
    ) -> Outcome:
        """The original goes aside (older conversions of the place go with the old version);
        said once per server version, in the log and in the status."""
        self.install(partial, action, [])
        warnings = []
        if note_unconverted(
            self.journal, action.date, action.name, action.remote.version, problem.message
        ):
            log.warning("%s/%s cannot be converted: %s", action.date, action.name, problem)
            warnings.append(
                _(
                    "{date}/{name} cannot be shown as images: {reason} The original is kept "
                    "in {folder}."
                ).format(
                    date=action.date,
                    name=action.name,
                    reason=problem.message,
                    folder=self.media.original_path(action.date, action.name).parent,
                )
            )
        return Outcome(action, size=size, warnings=warnings, not_converted=problem.message)

    def outputs(self, partial: Path, action: Download) -> list[Output]:
        # The working folder only where a step may apply: making and removing a folder for
        # every download costs more than the rest of installing it (a few ms each).
        if self._may_convert(action.name):
            workdir = self.media.workdir(action.date, action.name, action.remote.version)
            for step in self.steps:
                produced = step(partial, action.name, workdir)
                if produced is not None:
                    return produced
        return [Output(action.name, partial)]

    def adopt_as_listed(self, action: Download) -> bool:
        """Own the file already in the place, without a download, if it has the listing's size
        and modification time (congsync gives every download the server's time): it is the
        server's version. Only where no post-download step could have made other files of it."""
        listed = listed_mtime_ns(action.remote)
        if (
            action.kind != "adopt"
            or self._may_convert(action.name)
            or listed is None
            or action.remote.size is None
        ):
            return False
        on_disk = self.media.stat(action.date, action.name)
        if on_disk != LocalFile(size=action.remote.size, mtime_ns=listed):
            return False
        self._record(action, action.name, on_disk)
        return True

    def install(
        self, partial: Path, action: Download, outputs: list[Output]
    ) -> tuple[list[str], bool]:
        """Put `outputs` in place of the placement's previous files; returns the warnings and
        whether the place kept a file of the user's instead of the download.

        A file congsync does not own that is already where an output goes is adopted if it is
        byte for byte the same (then replacing it loses nothing), and kept otherwise.
        """
        warnings: list[str] = []
        kept = False
        day = action.date
        previous = {
            name: record
            for (d, name), record in self.owned.items()
            if d == day and record.placed_as == action.name
        }
        new_names = {o.name for o in outputs}
        for name in sorted(set(previous) - new_names):
            # The server's new version makes fewer files (a shorter PDF): the rest go.
            self.media.trash(day, name)
            self.journal.forget_owned(day, name)
        for output in outputs:
            on_disk = self.media.stat(day, output.name)
            if (
                on_disk is not None
                and output.name not in previous
                and not same_content(output.path, self.media.file_path(day, output.name))
            ):
                warnings.append(self._keep_users_file(action, output, on_disk))
                kept = kept or output.name == action.name
                continue
            owned = previous.get(output.name)
            edited = (
                on_disk is not None
                and owned is not None
                and (on_disk.size, on_disk.mtime_ns) != (owned.size, owned.mtime_ns)
            )
            if edited:
                # A locally edited copy goes to the trash before the server's replaces it.
                self.media.trash(day, output.name)
            as_downloaded = output.path == partial
            local = self.media.install(
                output.path,
                day,
                output.name,
                mtime_ns=listed_mtime_ns(action.remote) if as_downloaded else None,
            )
            self._record(action, output.name, local)
        if partial.exists() and partial not in {o.path for o in outputs}:
            self.media.keep_original(partial, day, action.name)
        elif conversion_kind(action.name) is not None:
            self.media.drop_original(day, action.name)  # installed as it is: no stale original
        if self._may_convert(action.name):
            self.media.drop_workdir(day, action.name, action.remote.version)
        return warnings, kept

    def _keep_users_file(self, action: Download, output: Output, on_disk: LocalFile) -> str:
        """A file of the user's differs from what would go in its place: it stays untouched."""
        if output.name != action.name:
            # A file a step made (a PDF's page) would replace it: the step's files stay apart.
            return _(
                "{date}/{name} already exists and was not put there by congsync; "
                "it is left alone and the server's copy is not installed."
            ).format(date=action.date, name=output.name)
        # Remembered, so the server's copy is fetched again only once either side changes.
        self.journal.record_differing(
            DifferingFile(
                action.date, action.name, action.remote.version, on_disk.size, on_disk.mtime_ns
            )
        )
        self.media.discard(output.path)
        return _(
            "{date}/{name} was not put there by congsync and differs from the server's version; "
            "it is kept as it is and the congregation's version is not installed. To receive "
            "it, move this file elsewhere or rename it."
        ).format(date=action.date, name=action.name)

    def _record(self, action: Download, name: str, local: LocalFile) -> None:
        self.journal.record_owned(
            OwnedFile(
                date=action.date,
                name=name,
                remote_path=action.remote.path,
                version=action.remote.version,
                size=local.size,
                mtime_ns=local.mtime_ns,
                placement=action.name if name != action.name else None,
            )
        )


def listed_mtime_ns(remote: RemoteFile) -> int | None:
    """The server's modification time of `remote` as a file time (whole nanoseconds)."""
    modified = parse_http_date(remote.modified_raw)
    if modified is None:
        return None
    return (modified - _EPOCH) // timedelta(microseconds=1) * 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def download_all(
    downloads: Sequence[Download],
    dav: DavClient,
    installer: Installer,
    *,
    workers: int,
    cancel: threading.Event,
    on_progress: Callable[[Progress], None] | None = None,
) -> list[Outcome]:
    """Download every action; one failure never stops the others. Cancellation stops them all.

    The next meeting's files are started first. One server file placed at several dates
    (recurring media) is downloaded once and copied locally into the other places.
    """
    meter = ProgressMeter(len(downloads), sum(d.remote.size or 0 for d in downloads), on_progress)
    outcomes: list[Outcome] = []
    if not downloads:
        return outcomes
    later: Background[Outcome] = Background()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="download") as pool:
        futures = {
            pool.submit(_download_one, d, copies, dav, installer, cancel, meter, later): (
                d,
                copies,
            )
            for d, copies in share_downloads(downloads)
        }
        for future in as_completed(futures):
            action, copies = futures[future]
            try:
                outcomes.extend(future.result())
            except Cancelled:
                cancel.set()  # stop the rest promptly; partial files stay for next time
                for each in (action, *copies):
                    outcomes.append(Outcome(each, error=Cancelled(_("Stopped on request."))))
            except CongsyncError as exc:
                log.warning("download of %s/%s failed: %s", action.date, action.name, exc)
                outcomes.extend(Outcome(each, error=exc) for each in (action, *copies))
            for _each in (action, *copies):
                meter.file_done()
    outcomes.extend(later.join())
    return outcomes


def _download_one(
    action: Download,
    copies: Sequence[Download],
    dav: DavClient,
    installer: Installer,
    cancel: threading.Event,
    meter: ProgressMeter,
    later: Background[Outcome],
) -> list[Outcome]:
    if cancel.is_set():
        raise Cancelled(_("Stopped on request."))
    remote = action.remote
    meter.file_started(f"{action.date}/{action.name}")
    partial = installer.media.partial_path(action.date, action.name, remote.version)
    if installer.reuse_here(action, partial):
        size = 0
    else:
        size = dav.download(
            to_remote_entry(remote), partial, cancel=cancel, on_bytes=meter.add_bytes
        )
    outcomes = []
    for copy in copies:
        # Before the download is installed (renamed away): each place gets its own temp file.
        outcomes.extend(_install_copy(partial, copy, installer, size, meter, later))
    if installer.off_transfer_path(action):
        later.submit(lambda: _finish(partial, action, installer, size, cancel))
        return outcomes
    outputs = installer.outputs(partial, action)
    warnings, kept = installer.install(partial, action, outputs)
    return [Outcome(action, size=size, warnings=warnings, kept=kept), *outcomes]


def _install_copy(
    source: Path,
    action: Download,
    installer: Installer,
    size: int,
    meter: ProgressMeter,
    later: Background[Outcome],
) -> list[Outcome]:
    """`action` is the same server file as the download in `source`: copied, not fetched."""
    try:
        partial = installer.media.partial_path(action.date, action.name, action.remote.version)
        copy_flushed(source, partial)
        meter.add_bytes(size)
    except CongsyncError as exc:
        log.warning("copy to %s/%s failed: %s", action.date, action.name, exc)
        return [Outcome(action, error=exc)]
    if installer.off_transfer_path(action):
        later.submit(lambda: _finish(partial, action, installer, 0))
        return []
    return _finish(partial, action, installer, 0)  # nothing crossed the network for it


def _finish(
    partial: Path,
    action: Download,
    installer: Installer,
    size: int,
    cancel: threading.Event | None = None,
) -> list[Outcome]:
    """Run the steps on a complete download and install what they made (off the transfer path
    for conversions). A failure here is this file's alone."""
    if cancel is not None and cancel.is_set():
        return [Outcome(action, error=Cancelled(_("Stopped on request.")))]
    try:
        try:
            outputs = installer.outputs(partial, action)
        except ConversionError as problem:
            return [installer.not_converted(partial, action, problem, size)]
        warnings, kept = installer.install(partial, action, outputs)
    except CongsyncError as exc:
        log.warning("installing %s/%s failed: %s", action.date, action.name, exc)
        return [Outcome(action, error=exc)]
    return [Outcome(action, size=size, warnings=warnings, kept=kept)]
