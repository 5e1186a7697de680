"""The member cycle's part in conversions: the step in force (the `convert` setting), the
placements to do again because the setting changed, and the files known not to convert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from daemon.core.conversions import out_of_step
from daemon.core.member_plan import Action, Download, Plan
from daemon.core.records import OwnedFile
from daemon.sync.convert import Converter
from daemon.sync.downloads import PostDownloadStep
from daemon.sync.journal import Journal
from daemon.sync.media_folder import NOT_CONVERTED, MediaFolder
from daemon.sync.unconverted import keep_unconverted, unconverted


@dataclass(frozen=True)
class Conversions:
    steps: tuple[PostDownloadStep, ...]
    actions: tuple[Action, ...]  # the plan's, with the placements to redo, without known failures
    unconverted: Mapping[tuple[str, str], tuple[str, str]]
    reasons: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def forget_settled(self, journal: Journal, plan: Plan) -> None:
        """Failures of versions the server no longer offers at that place are forgotten."""
        keep_unconverted(
            journal,
            {(d, n): f.version for d, files in plan.expected.items() for n, f in files.items()},
        )


def with_conversions(
    plan: Plan,
    owned: Mapping[tuple[str, str], OwnedFile],
    journal: Journal,
    media: MediaFolder,
    convert: bool,
    steps: Sequence[PostDownloadStep],
) -> Conversions:
    failed = unconverted(journal)
    planned = {(a.date, a.name) for a in plan.actions}
    actions: list[Action] = []
    reasons: dict[tuple[str, str], tuple[str, str]] = {}
    for action in plan.actions:
        if isinstance(action, Download) and convert:
            known = failed.get((action.date, action.name))
            if (
                known is not None
                and known[0] == action.remote.version
                and media.original_path(action.date, action.name).is_file()
            ):
                # Said once when it failed; the original waits under .congsync/originals.
                reasons[(action.date, action.name)] = (NOT_CONVERTED, known[1])
                continue
        actions.append(action)
    # The setting changed since these were installed: converted again, or put back as they are,
    # from the copy already here.
    for day, name in sorted(out_of_step(owned, convert)):
        wanted = plan.expected.get(day, {}).get(name)
        if wanted is not None and (day, name) not in planned:
            actions.append(Download(day, name, wanted, "restore"))
    in_force = (*steps, Converter()) if convert else tuple(steps)
    return Conversions(in_force, tuple(actions), failed, reasons)
