"""Pure reconciliation: (what the server wants, what is on disk, what the journal owns) -> actions.

Nothing here touches the network or the disk, so every rule can be tested with plain data.
Dates are ISO strings (`YYYY-MM-DD`), which sort like dates and are the local folder names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from daemon.core.names import assign_local_names, collision_key, safe_local_name
from daemon.core.records import (
    DifferingFile,
    LocalFile,
    OwnedFile,
    RemoteFile,
    is_mass_deletion,
)
from daemon.i18n import _


@dataclass(frozen=True)
class RemoteState:
    """The congregation folder as far as the window is concerned, already merged across formats."""

    dated: Mapping[date, Mapping[str, RemoteFile]]  # remote name -> file, per meeting date
    recurring: Mapping[str, RemoteFile]
    hidden: Mapping[date, frozenset[str]]  # exact file names the VO hid per date
    incomplete_dates: frozenset[date] = frozenset()  # listings that failed or were partial
    recurring_complete: bool = True
    hidden_complete: bool = True
    media_complete: bool = True  # False when the Media/ listing itself dropped entries
    # Dates whose media is an organizer's complete selection (M³'s export): no recurring copies.
    exported: frozenset[date] = frozenset()


@dataclass(frozen=True)
class LocalState:
    files: Mapping[str, Mapping[str, LocalFile]]  # date -> name -> file, date folders only
    quarantine: Mapping[str, frozenset[str]]  # date -> names in .congsync/hidden/<date>/


@dataclass(frozen=True)
class Desired:
    files: Mapping[str, Mapping[str, RemoteFile]]  # date -> local name -> remote file
    hidden: Mapping[str, frozenset[str]]  # date -> local names to keep out of the date folder
    certain_dates: frozenset[str]  # dates whose server state is fully known
    warnings: tuple[str, ...] = ()
    exported: frozenset[str] = frozenset()  # dates an organizer's export selects (see RemoteState)


@dataclass(frozen=True)
class Download:
    date: str
    name: str
    remote: RemoteFile
    # "new", "update" (server changed), "restore" (local copy changed or missing) or "adopt"
    # (a file congsync does not own is in the place: own it if it is the server's version)
    kind: str


@dataclass(frozen=True)
class Remove:
    date: str
    name: str
    # "gone" (no longer on the server), "hidden", "past", "outside" (left the window),
    # "selection" (not in the organizer's exported selection for that date)
    reason: str


@dataclass(frozen=True)
class Forget:
    """The journal lists a file that is neither on disk nor wanted any more."""

    date: str
    name: str


@dataclass(frozen=True)
class ForgetHidden:
    """The journal lists a moved-aside file that someone took out of quarantine by hand."""

    date: str
    name: str


@dataclass(frozen=True)
class Quarantine:
    date: str
    name: str


@dataclass(frozen=True)
class Unquarantine:
    date: str
    name: str


Action = Download | Remove | Forget | ForgetHidden | Quarantine | Unquarantine


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    unchanged: int
    # owned downloads of today and later, before this plan, counted by placement (a PDF and
    # its pages are one), like `unexpected_removals`
    owned_in_use: int
    warnings: tuple[str, ...] = ()
    expected: Mapping[str, Mapping[str, RemoteFile]] = field(default_factory=dict)
    hidden: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # places whose file was found to differ from the server's and still does (kept, not ours)
    differing: frozenset[tuple[str, str]] = frozenset()
    # placements whose server file is gone (reason "gone"): a long PDF counts once
    gone_placements: int = 0

    def of(self, kind: type) -> list[Action]:
        return [a for a in self.actions if isinstance(a, kind)]

    @property
    def unexpected_removals(self) -> int:
        return self.gone_placements

    @property
    def is_mass_deletion(self) -> bool:
        """More than half of what congsync owns would go: stop and ask (Syncthing's lesson)."""
        return is_mass_deletion(self.unexpected_removals, self.owned_in_use)


def desired_state(
    remote: RemoteState, meeting_dates: Iterable[date], window: tuple[date, date]
) -> Desired:
    """What each local date folder should hold: dated media, recurring media, minus hidden."""
    start, end = window
    meetings = {d for d in meeting_dates if start <= d <= end}
    dates = meetings | {d for d in remote.dated if start <= d <= end}
    files: dict[str, dict[str, RemoteFile]] = {}
    hidden: dict[str, frozenset[str]] = {}
    warnings: list[str] = []
    certain: set[str] = set()
    for day in sorted(dates):
        key = day.isoformat()
        hidden_names = remote.hidden.get(day, frozenset())
        dated = {n: f for n, f in remote.dated.get(day, {}).items() if n not in hidden_names}
        recurring = (
            {n: f for n, f in remote.recurring.items() if n not in hidden_names}
            if day in meetings and day not in remote.exported
            else {}
        )
        chosen: dict[str, RemoteFile] = {}
        taken: set[str] = set()
        # Date-specific media first: a dated file beats a recurring one of the same name.
        for group, label in ((dated, day.isoformat()), (recurring, _("recurring media"))):
            assignment = assign_local_names(group)
            for remote_name, reason in assignment.skipped:
                warnings.append(
                    _("Skipped “{name}” ({where}): {reason}").format(
                        name=remote_name, where=label, reason=reason
                    )
                )
            for remote_name, local_name in sorted(assignment.mapping.items()):
                if collision_key(local_name) in taken:
                    continue
                taken.add(collision_key(local_name))
                chosen[local_name] = group[remote_name]
        if chosen:
            files[key] = chosen
        local_hidden = {safe_local_name(n) for n in hidden_names}
        hidden[key] = frozenset(n for n in local_hidden if n)
    # Every day of the window whose server state is fully known, including days that are no
    # longer meeting days and have no folder: what congsync owns there may go.
    if remote.media_complete and remote.hidden_complete:
        day = start
        while day <= end:
            if day not in remote.incomplete_dates and (
                day not in meetings or remote.recurring_complete
            ):
                certain.add(day.isoformat())
            day += timedelta(days=1)
    return Desired(
        files=files,
        hidden=hidden,
        certain_dates=frozenset(certain),
        warnings=tuple(warnings),
        exported=frozenset(d.isoformat() for d in remote.exported),
    )


def _missing_or_changed(local: LocalFile | None, owned: OwnedFile) -> bool:
    return local is None or local.size != owned.size or local.mtime_ns != owned.mtime_ns


def plan_sync(
    desired: Desired,
    local: LocalState,
    owned: Mapping[tuple[str, str], OwnedFile],
    quarantined: Iterable[tuple[str, str]],
    today: date,
    window_end: date,
    differing: Mapping[tuple[str, str], DifferingFile] | None = None,
) -> Plan:
    """Decide every action of one member cycle. Never removes what it cannot prove is unwanted.

    `differing` are the remembered verdicts that a file congsync does not own is not the
    server's version; while neither side changed, such a file is kept without another look.
    """
    today_key = today.isoformat()
    end_key = window_end.isoformat()
    actions: list[Action] = []
    warnings: list[str] = list(desired.warnings)
    unchanged = 0
    gone = 0

    def on_disk(day: str, name: str) -> LocalFile | None:
        return local.files.get(day, {}).get(name)

    # 1. Files congsync owns, by placement (a download and the files a step made of it): keep
    #    identical, update, restore, or remove, always the whole placement at once.
    placements: dict[tuple[str, str], list[OwnedFile]] = {}
    for (day, _name), record in sorted(owned.items()):
        placements.setdefault((day, record.placed_as), []).append(record)
    for (day, placement), records in sorted(placements.items()):
        present = {r.name: on_disk(day, r.name) for r in records}
        wanted = desired.files.get(day, {}).get(placement)
        if day < today_key:
            reason = "past"
        elif wanted is not None:
            if any(_missing_or_changed(present[r.name], r) for r in records):
                actions.append(Download(day, placement, wanted, "restore"))
            elif any(wanted.version != r.version for r in records):
                actions.append(Download(day, placement, wanted, "update"))
            else:
                unchanged += len(records)
            continue
        elif day > end_key:
            reason = "outside"
        elif placement in desired.hidden.get(day, frozenset()):
            reason = "hidden"
        elif day not in desired.certain_dates:
            unchanged += len(records)  # the listing was partial: keep what we have
            continue
        elif day in desired.exported:
            # The organizer's selection changed (M³ renames every item after a reorder): no
            # sign of a server gone wrong, so it never counts toward the mass-deletion stop.
            reason = "selection"
        else:
            reason = "gone"
            gone += any(present[r.name] for r in records)
        for r in records:
            actions.append(Remove(day, r.name, reason) if present[r.name] else Forget(day, r.name))

    # 2. Wanted files congsync does not own yet. A file already in the place (a lost journal,
    #    a media folder copied from another computer or filled by Meeting Media Manager) is
    #    adopted if it proves to be the server's version, and kept as the user's if not.
    verdicts = differing or {}
    still_differing: set[tuple[str, str]] = set()
    for day, wanted_files in sorted(desired.files.items()):
        for name, remote in sorted(wanted_files.items()):
            if (day, name) in placements:
                continue
            here = on_disk(day, name)
            if here is None:
                actions.append(Download(day, name, remote, "new"))
                continue
            verdict = verdicts.get((day, name))
            if verdict is not None and (verdict.version, verdict.size, verdict.mtime_ns) == (
                remote.version,
                here.size,
                here.mtime_ns,
            ):
                still_differing.add((day, name))  # said once when found; not fetched again
                continue
            actions.append(Download(day, name, remote, "adopt"))

    # 3. Files of the user's that the VO hid: move aside (never delete).
    quarantined_set = set(quarantined)
    for day, names in sorted(desired.hidden.items()):
        for name in sorted(names):
            if on_disk(day, name) is None or (day, name) in owned:
                continue
            if name in local.quarantine.get(day, frozenset()):
                warnings.append(
                    _(
                        "{date}/{name} is hidden by the organizer, but a hidden copy is already "
                        "kept aside; the file is left where it is."
                    ).format(date=day, name=name)
                )
                continue
            actions.append(Quarantine(day, name))

    # 4. Moved-aside files whose marker is gone (or whose meeting is over) come back.
    for day, name in sorted(quarantined_set):
        if name not in local.quarantine.get(day, frozenset()):
            actions.append(ForgetHidden(day, name))
            continue
        still_hidden = name in desired.hidden.get(day, frozenset())
        if day >= today_key and (still_hidden or day not in desired.certain_dates):
            continue
        if on_disk(day, name) is not None:
            warnings.append(
                _(
                    "{date}/{name} is no longer hidden, but a file of that name is back in the "
                    "folder; the hidden copy stays in .congsync/hidden."
                ).format(date=day, name=name)
            )
            continue
        actions.append(Unquarantine(day, name))

    owned_in_use = sum(1 for (day, _placement) in placements if day >= today_key)
    return Plan(
        actions=tuple(actions),
        unchanged=unchanged,
        owned_in_use=owned_in_use,
        gone_placements=gone,
        warnings=tuple(warnings),
        expected=desired.files,
        hidden=desired.hidden,
        differing=frozenset(still_differing),
    )
