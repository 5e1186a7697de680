"""`congsync sync`: one complete cycle now, with progress on a terminal and a one-line summary."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from daemon.commands._render import summarise
from daemon.config import Profile
from daemon.errors import ExitCode
from daemon.i18n import _, render_json
from daemon.service.control import ControlClient
from daemon.service.root import ProfileRoot
from daemon.service.status import Progress
from daemon.sync.result import SyncResult


def run(args: argparse.Namespace, profile: Profile) -> int:
    client = ControlClient.from_paths(profile.paths)
    if client is not None:
        # A daemon runs: ask it, rather than racing it with a second cycle.
        return _sync_through_daemon(client, args)
    cancel = threading.Event()
    with ProfileRoot(profile) as root:
        try:
            result = _with_progress(
                lambda report: root.run_cycle(
                    cancel, report, full_listing=True, accept_deletions=args.accept_deletions
                ),
                enabled=sys.stderr.isatty() and not args.json,
            )
        except KeyboardInterrupt:
            cancel.set()
            raise
    print_result(result, as_json=args.json)
    return int(ExitCode.OK if result.ok else ExitCode.FAILURE)


# What a cycle that failed as a whole left behind, when the daemon does not say its exit code.
STATE_EXIT = {
    "offline": ExitCode.NETWORK,
    "error": ExitCode.FAILURE,
    "attention": ExitCode.UNSAFE,
}


def _sync_through_daemon(client: ControlClient, args: argparse.Namespace) -> int:
    ticket = client.sync_now(accept_deletions=args.accept_deletions)
    show = sys.stderr.isatty() and not args.json

    def on_update(document: dict[str, Any]) -> None:
        progress = document.get("progress")
        if show and progress:
            print(
                _("\r{done}/{total} files, {mb:.1f} MB").format(
                    done=progress["files_done"],
                    total=progress["files_total"],
                    mb=progress["bytes_done"] / 1e6,
                ),
                end="",
                file=sys.stderr,
                flush=True,
            )

    document = client.follow(ticket, on_update)
    if show:
        print(file=sys.stderr)
    fallback = STATE_EXIT.get(str(document.get("state")))
    if fallback is not None:
        # The failure's own code, as a one-shot sync ends with it (3 for a wrong password …).
        reported = document.get("exit_code")
        code = reported if isinstance(reported, int) and reported > 0 else int(fallback)
        if args.json:
            print(
                json.dumps(
                    {
                        "state": document.get("state"),
                        "message": document.get("message"),
                        "exit_code": code,
                    }
                )
            )
        else:
            message = render_json(document.get("message"))
            print(_("congsync: {message}").format(message=message), file=sys.stderr)
        return code
    result = SyncResult.from_json(document.get("last_result") or {})
    print_result(result, as_json=args.json)
    return int(ExitCode.OK if result.ok else ExitCode.FAILURE)


def print_result(result: SyncResult, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    for warning in result.warnings:
        print(f"! {warning}", file=sys.stderr)
    for error in result.errors:
        print(f"✗ {error}", file=sys.stderr)
    print(summarise(result))


def _with_progress(
    work: Callable[[Callable[[Progress], None] | None], SyncResult], *, enabled: bool
) -> SyncResult:
    if not enabled:
        return work(None)
    from rich.progress import (  # only needed on a terminal
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("sync", total=None)

        def report(progress: Progress) -> None:
            label = f"{progress.files_done}/{progress.files_total}"
            bar.update(
                task,
                completed=progress.bytes_done,
                total=progress.bytes_total or None,
                description=label,
            )

        return work(report)
