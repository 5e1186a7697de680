"""What the panel's pages work with: the profile and the daemon's own services, as callables
(so the panel needs no import of the root that builds it)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from daemon.config import Profile

if TYPE_CHECKING:
    from daemon.sync.media_folder import MeetingSummary
    from daemon.sync.publishing import Publisher


@dataclass(frozen=True)
class PanelServices:
    profile: Profile
    # The organizer's publishing commands (the same as `congsync media add` …); write=True checks
    # the role before anything is sent.
    publisher: Callable[[bool], contextlib.AbstractContextManager[Publisher]]
    # The upcoming meetings as the media folder holds them (as `congsync status` lists them).
    meetings: Callable[[], Sequence[MeetingSummary]]
    # The recent log lines (as `congsync logs` shows them).
    log_tail: Callable[[int], Sequence[str]]

    @property
    def configured(self) -> bool:
        return self.profile.paths.config_file.exists()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Publisher]:
        with self.publisher(False) as publisher:
            yield publisher
