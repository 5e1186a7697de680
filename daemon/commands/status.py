"""`congsync status`: the configuration in force (never the password), the last sync, upcoming media."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import date
from typing import Any

from daemon.commands._render import moment_words, summarise
from daemon.config import Profile
from daemon.i18n import _, render_json
from daemon.service.control import ControlClient
from daemon.service.readiness_words import missing_lines, next_meeting, readiness_sentence
from daemon.service.root import ProfileRoot
from daemon.service.status import MeetingSummary, State, read_status_file, state_words
from daemon.sync.result import SyncResult


def collect(profile: Profile) -> dict[str, Any]:
    config = profile.config
    settings = {k: v for k, v in config.to_toml().items()}
    with ProfileRoot(profile) as root:
        last_result = root.journal.last_result()
        last_sync_at = root.journal.last_sync_at()
        meetings = root.meetings()
    client = ControlClient.from_paths(profile.paths)
    live = client.status() if client is not None else read_status_file(profile.paths.status_file)
    return {
        "state": live.get("state", "stopped"),
        "message": live.get("message", ""),
        "progress": live.get("progress"),
        "paused_until": live.get("paused_until"),
        "next_retry_at": live.get("next_retry_at"),
        "cycles_finished": live.get("cycles_finished", 0),
        "language": live.get("language"),  # the one the daemon speaks (tray, panel)
        "config_file": str(profile.paths.config_file),
        "settings": settings,
        "last_sync_at": live.get("last_sync_at") or last_sync_at,
        "last_result": live.get("last_result") or last_result,
        "meetings": [asdict(m) for m in meetings],
    }


def run(args: argparse.Namespace, profile: Profile) -> int:
    data = collect(profile)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    try:
        words = state_words(State(data["state"]))
    except ValueError:
        words = str(data["state"])
    # Translators: {words} is the state as the tray says it ("Up to date"), {state} its code
    # ("idle"), kept for scripts and for helpers reading along.
    print(_("State: {words} ({state})").format(words=words, state=data["state"]))
    if data["state"] == "paused":
        # Said from the state: the daemon's sentence is written for every face, not a terminal.
        until = moment_words(data["paused_until"])
        if until is None:
            print("  " + _("Syncing is paused. Run “congsync resume” to sync again."))
        else:
            print(
                "  "
                + _("Syncing is paused until {time}. Run “congsync resume” to sync sooner.").format(
                    time=until
                )
            )
    elif message := render_json(data["message"]):
        # The daemon's fact, said in this command's language (it may speak another)
        print("  " + message)
    retry = moment_words(data["next_retry_at"])
    if retry is not None and data["state"] != "paused":
        print("  " + _("Next try: {time}.").format(time=retry))
    print(_("Configuration: {path}").format(path=data["config_file"]))
    for key, value in data["settings"].items():
        print(f"  {key} = {value}")
    if data["last_result"]:
        when = moment_words(data["last_sync_at"]) or _("never completed")
        print(_("Last sync: {when}").format(when=when))
        last = SyncResult.from_json(data["last_result"])
        print("  " + summarise(last))
        if last.errors or last.warnings:
            # What the organizer or member must know or do (a conflict copy, a file never
            # published, an incomplete video …), each once.
            print(_("Needs your attention:"))
            for sentence in dict.fromkeys([*last.errors, *last.warnings]):
                print("  - " + sentence)
    else:
        print(_("Last sync: never"))
    _print_readiness(data["meetings"])
    if data["meetings"]:
        print(_("Upcoming meetings:"))
        for meeting in data["meetings"]:
            print(
                _("  {date}: {present} of {expected} files").format(
                    date=meeting["date"],
                    present=meeting["files_present"],
                    expected=meeting["files_expected"],
                )
            )
    else:
        print(_("No upcoming meeting media yet."))
    return 0


def _print_readiness(meetings: list[dict[str, Any]]) -> None:
    """ "Ready for Thursday: 12 of 12 files", or what is missing and why."""
    meeting = next_meeting([MeetingSummary.from_json(m) for m in meetings], date.today())
    if meeting is None:
        return
    print(readiness_sentence(meeting, date.today()))
    for line in missing_lines(meeting):
        print("  - " + line)
