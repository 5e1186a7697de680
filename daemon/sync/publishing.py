"""What the organizer's commands do on the server: list, add and remove media, hide and un-hide it, push settings.

Reading is open to every role; every change calls Config.require_organizer before any request
is sent. Files are published through uploads.Stager (temporary name, then MOVE into place).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from daemon.config import Config
from daemon.core.layout import (
    HIDDEN,
    MAX_PREFS_BYTES,
    MEDIA,
    PREFS_FILE,
    RECURRING,
    SETTING_KEYS,
    dump_forced_prefs,
    format_date_folder,
    parse_date_folder,
    parse_forced_prefs,
    validate_setting,
)
from daemon.core.meetings import meeting_dates
from daemon.core.names import collision_key, safe_local_name
from daemon.core.records import LocalFile, RemoteFile
from daemon.core.settings import effective
from daemon.dav import DavClient, Expect, RemotePath
from daemon.errors import ConfigError, LocalDiskError, NotFound, PreconditionFailed
from daemon.i18n import _, fact
from daemon.sync.congregation import refresh_settings, remember_settings
from daemon.sync.discovery import Discovery, ServerSnapshot
from daemon.sync.journal import Journal
from daemon.sync.uploads import Stager

PUSH_ATTEMPTS = 3


@dataclass(frozen=True)
class ListedFile:
    name: str
    size: int | None
    hidden: bool = False


@dataclass(frozen=True)
class MeetingMedia:
    """One meeting date as the server has it: its files and the names hidden there."""

    day: date
    files: tuple[ListedFile, ...]
    hidden: tuple[str, ...]


def parse_day(text: str) -> date:
    """A meeting date as typed on the command line (YYYY-MM-DD, or a date-folder spelling)."""
    day = parse_date_folder(text)
    if day is None:
        raise ConfigError(
            fact("“{text}” is not a date; write it as YYYY-MM-DD, e.g. 2026-11-24.", text=text)
        )
    return day


class Publisher:
    """The organizer's commands against one congregation folder."""

    def __init__(
        self,
        config: Config,
        dav: DavClient,
        journal: Journal,
        *,
        today: date | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.dav = dav
        self.journal = journal
        self.today = today or date.today()
        self.cancel = cancel
        # Commands look afresh (a full listing); the daemon's memory of earlier looks is its own.
        self.discovery = Discovery(dav, {}, full_listing=True, cancel=cancel)

    # -- reading ------------------------------------------------------------------------------

    def _look(self, day: date | None = None) -> ServerSnapshot:
        """The server for one meeting (any date), or for every meeting from today on."""
        return self.discovery.snapshot((day, day) if day else (self.today, None))

    def media(self, day: date | None = None) -> list[MeetingMedia]:
        """The media of one meeting, or of every meeting from today on."""
        server = self._look(day)
        if day is not None:
            days = {day}
        else:
            days = {d for d in (*server.media_dates, *server.hidden_dates) if d >= self.today}
        result = []
        for each in sorted(days):
            hidden = set(server.files_on(HIDDEN, each))
            hidden_keys = {collision_key(safe_local_name(n) or n) for n in hidden}
            files = tuple(
                ListedFile(name, file.size, collision_key(name) in hidden_keys)
                for name, file in sorted(server.files_on(MEDIA, each).items())
            )
            result.append(MeetingMedia(each, files, tuple(sorted(hidden))))
        return result

    def meeting_days(self) -> list[date]:
        """The meeting days members place media for now: the sync window's midweek and weekend
        days (Tuesday in the circuit overseer's week), by the congregation's settings."""
        prefs = self._look().prefs
        congregation, _warnings = refresh_settings(self.dav, self.journal, prefs, force=False)
        settings = effective(self.config, congregation)
        return meeting_dates(
            self.today, settings.weeks_ahead, settings.mw_day, settings.we_day, settings.co_week
        )

    def recurring(self) -> list[ListedFile]:
        recurring = self._look().recurring
        files = recurring.files if recurring is not None else {}
        return [ListedFile(name, file.size) for name, file in sorted(files.items())]

    # -- publishing -----------------------------------------------------------------------------

    def _stager(self) -> Stager:
        return Stager(self.dav, cancel=self.cancel)

    def _published(self) -> None:
        """Something changed on the server: the next look is a fresh one."""
        self.discovery.server_changed()

    def _folder_for(self, day: date, top: str) -> RemotePath:
        """The server folder for `day`: an existing one in any spelling, else a new one."""
        server = self._look(day)
        existing = (server.media_dates if top == MEDIA else server.hidden_dates).get(day)
        if existing:
            return existing[0]
        settings, _warnings = refresh_settings(self.dav, self.journal, server.prefs, force=False)
        return (top, format_date_folder(day, settings.output_folder_date_format))

    def _files_in(self, folder: RemotePath, day: date | None) -> dict[str, RemoteFile]:
        contents = self._look(day).contents(folder)
        return dict(contents.files) if contents is not None else {}

    def _check_future(self, day: date) -> None:
        if day < self.today:
            raise ConfigError(
                fact(
                    "The meeting of {date} is over; members no longer sync it. Choose today or a "
                    "later date.",
                    date=day.isoformat(),
                )
            )

    def add_media(
        self,
        day: date,
        files: Sequence[Path],
        *,
        replace: bool = False,
        on_bytes: Callable[[int], None] | None = None,
    ) -> list[str]:
        """Publish files for the meeting on `day`; returns one sentence per file."""
        self.config.require_organizer()
        self._check_future(day)
        return self._add(self._folder_for(day, MEDIA), day, files, replace, on_bytes)

    def add_recurring(
        self,
        files: Sequence[Path],
        *,
        replace: bool = False,
        on_bytes: Callable[[int], None] | None = None,
    ) -> list[str]:
        self.config.require_organizer()
        return self._add((MEDIA, RECURRING), None, files, replace, on_bytes)

    def _add(
        self,
        folder: RemotePath,
        day: date | None,
        files: Sequence[Path],
        replace: bool,
        on_bytes: Callable[[int], None] | None,
    ) -> list[str]:
        sources = [(source, _local_state(source)) for source in files]  # all readable, or none
        existing = {collision_key(n): f for n, f in self._files_in(folder, day).items()}
        stager = self._stager()
        messages = []
        for source, local in sources:
            name = safe_local_name(source.name)
            if name is None:
                raise LocalDiskError(
                    fact(
                        "“{name}” cannot be published: its name has nothing usable in it.",
                        name=source.name,
                    )
                )
            current = existing.get(collision_key(name))
            if current is not None and not replace:
                raise ConfigError(
                    fact(
                        "“{name}” is already published in {folder}. Add --replace to replace it.",
                        name=current.path[-1],
                        folder="/".join(folder),
                    )
                )
            target = current.path if current is not None else (*folder, name)
            expect = Expect(current.version, current.etag_raw) if current else Expect.absent()
            try:
                stager.upload_file(source, target, local=local, expect=expect, on_bytes=on_bytes)
            finally:
                self._published()
            if target[-1] != source.name:
                message = _(
                    "Published {file} as “{name}” in {folder}, a name every computer can use."
                )
            elif current is not None:
                message = _("Replaced {name} in {folder}.")
            else:
                message = _("Published {name} in {folder}.")
            messages.append(
                message.format(file=source, name=target[-1], folder="/".join(target[:-1]))
            )
        return messages

    def remove_media(self, day: date, name: str) -> str:
        self.config.require_organizer()
        return self._remove(self._look(day).files_on(MEDIA, day), name, day.isoformat())

    def remove_recurring(self, name: str) -> str:
        self.config.require_organizer()
        return self._remove(self._files_in((MEDIA, RECURRING), None), name, RECURRING)

    def _remove(self, files: Mapping[str, RemoteFile], name: str, where: str) -> str:
        found = _find(files, name)
        if found is None:
            raise NotFound(
                fact("There is no “{name}” in {where} on the server.", name=name, where=where),
                404,
            )
        self.dav.delete(
            found.path, expect=Expect(found.version, found.etag_raw), cancel=self.cancel
        )
        self._published()
        return _("Removed {name} from {where}; members' copies go at their next sync.").format(
            name=found.path[-1], where=where
        )

    # -- hiding ---------------------------------------------------------------------------------

    def hide(self, day: date, name: str) -> list[str]:
        """Put the marker that hides `name` at the meeting on `day`."""
        self.config.require_organizer()
        self._check_future(day)
        marker = safe_local_name(name)
        if marker is None:
            raise ConfigError(fact("“{name}” is not a file name.", name=name))
        already = _("{name} is already hidden on {date}.").format(name=marker, date=day)
        if _find(self._look(day).files_on(HIDDEN, day), marker) is not None:
            return [already]
        target = (*self._folder_for(day, HIDDEN), marker)
        try:
            self._stager().upload_bytes(b"", target, expect=Expect.absent())
        except PreconditionFailed:
            return [already]
        finally:
            self._published()
        messages = [
            _(
                "{name} is hidden at the meeting on {date}; members move it aside at their next sync."
            ).format(name=marker, date=day)
        ]
        published = {collision_key(f.name) for m in self.media(day) for f in m.files}
        published |= {collision_key(f.name) for f in self.recurring()}
        if collision_key(marker) not in published:
            messages.append(
                _(
                    "No media called {name} is published for that date; the marker still hides "
                    "a file of that name from other sources."
                ).format(name=marker)
            )
        return messages

    def unhide(self, day: date, name: str) -> str:
        self.config.require_organizer()
        server = self._look(day)
        markers = [
            found
            for folder in server.hidden_dates.get(day, ())
            if (contents := server.contents(folder)) is not None
            and (found := _find(contents.files, safe_local_name(name) or name)) is not None
        ]
        if not markers:
            # Already as asked (as `hide` of a hidden name): a plain answer, not a refusal.
            return _("{name} is not hidden at the meeting on {date}.").format(
                name=name, date=day.isoformat()
            )
        for found in markers:
            self.dav.delete(found.path, cancel=self.cancel)
        self._published()
        return _("{name} is shown again at the meeting on {date}.").format(
            name=markers[0].path[-1], date=day.isoformat()
        )

    # -- congregation-wide settings --------------------------------------------------------------

    def push_settings(self, assignments: Sequence[str]) -> list[str]:
        """Set and lock congregation-wide settings (KEY=VALUE) in forcedPrefs.json."""
        self.config.require_organizer()
        changes: dict[str, Any] = {}
        for assignment in assignments:
            key, sep, value = assignment.partition("=")
            if not sep:
                raise ConfigError(fact("Write each setting as KEY=VALUE, e.g. meeting.mwDay=1."))
            try:
                changes[key.strip()] = validate_setting(key.strip(), value.strip())
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        self._rewrite_prefs(lambda raw: dump_forced_prefs(raw, changes))
        return [
            _(
                "{key} = {value} now applies to the whole congregation; members cannot change it "
                "on their computers."
            ).format(key=key, value=value)
            for key, value in changes.items()
        ]

    def unlock_settings(self, keys: Sequence[str]) -> list[str]:
        """Remove congregation-wide settings, so each computer's own value applies again."""
        self.config.require_organizer()
        for key in keys:
            if key not in SETTING_KEYS:
                raise ConfigError(
                    fact(
                        "congsync has no congregation-wide setting {key}; it knows {known}.",
                        key=key,
                        known=", ".join(sorted(SETTING_KEYS)),
                    )
                )
        self._rewrite_prefs(lambda raw: dump_forced_prefs(raw, {}, keys))
        return [
            _(
                "{key} is no longer set for the congregation; each computer's own value applies."
            ).format(key=key)
            for key in keys
        ]

    def _rewrite_prefs(self, rewrite: Callable[[Mapping[str, Any]], bytes]) -> None:
        """Read, change and write forcedPrefs.json, conditionally: a concurrent push is redone."""
        for attempt in range(PUSH_ATTEMPTS):
            entry = self.dav.stat_or_none((PREFS_FILE,), self.cancel)
            if entry is not None and entry.is_dir:
                entry = None
            raw: Mapping[str, Any] = {}
            if entry is not None:
                data = self.dav.get_bytes((PREFS_FILE,), MAX_PREFS_BYTES)
                try:
                    settings, _warnings = parse_forced_prefs(data)
                except ValueError as exc:
                    raise ConfigError(
                        fact(
                            "{file} on the server is unusable ({reason}). Repair or remove it "
                            "first; congsync does not overwrite what it cannot read.",
                            file=PREFS_FILE,
                            reason=exc,
                        )
                    ) from None
                raw = settings.raw
            try:
                content = rewrite(raw)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            expect = Expect.entry(entry) if entry is not None else Expect.absent()
            try:
                self._stager().upload_bytes(content, (PREFS_FILE,), expect=expect)
                remember_settings(self.journal, content)
                return
            except PreconditionFailed:
                if attempt == PUSH_ATTEMPTS - 1:
                    raise
            finally:
                self._published()


def _find(files: Mapping[str, RemoteFile], name: str) -> RemoteFile | None:
    """The file called `name`, or the one file whose name differs only in case or form."""
    if name in files:
        return files[name]
    matches = [e for n, e in files.items() if collision_key(n) == collision_key(name)]
    return matches[0] if len(matches) == 1 else None


def _local_state(source: Path) -> LocalFile:
    try:
        st = source.stat()
    except OSError as exc:
        raise LocalDiskError(
            fact("{path} cannot be read: {reason}.", path=source, reason=exc.strerror or exc)
        ) from exc
    if not source.is_file():
        raise LocalDiskError(fact("{path} is not a file.", path=source))
    return LocalFile(size=st.st_size, mtime_ns=st.st_mtime_ns)
