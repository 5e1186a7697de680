"""What one server has *proven* it does, learned from its own answers and kept between runs.

Nothing here is guessed from a product name: each field starts unknown (None) and is set only by
evidence, and a counter-example takes a belief back. The sync shell persists the record (as JSON)
and hands it back with the next connection to the same server.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from typing import Any

log = logging.getLogger(__name__)

# Two changes below the folder, each with the folder's own version moving, make propagation proven.
PROPAGATION_PROOFS = 2


@dataclass
class Capabilities:
    """Learned facts about one server and folder (`server` says which)."""

    server: str
    # Folder ETags that move when anything below moves (Nextcloud, ownCloud): then one Depth-0
    # request tells whether anything changed. Apache and lighttpd move them for direct entries only.
    folder_etags_propagate: bool | None = None
    propagation_evidence: int = 0
    # If-Match on DELETE and on MOVE's source, and a tagged `If` on MOVE's target, evaluated:
    # proven by a 412 for a resource that really had changed; disproven by a 412 for one that
    # had not (the server misreads the header, so it is not sent again).
    if_match: bool | None = None
    tagged_if: bool | None = None
    # Downloads are served with the strong ETag the listing showed, so it can guard resumes and
    # tell a file that changed during its download; the latest download is the evidence.
    strong_etags: bool | None = None

    # -- propagation ---------------------------------------------------------------------------

    def observe_folder(
        self, *, changed_below: bool, version_moved: bool, direct_entries_changed: bool
    ) -> None:
        """One complete look at the folder, compared with the previous one.

        `changed_below`: something changed inside a direct child (a date folder, a file in one);
        `version_moved`: the folder's own ETag differs; `direct_entries_changed`: its direct
        entries changed (a child came, went or was renamed, or a direct file changed), which
        moves the version on every server and so proves nothing.
        """
        if not changed_below:
            return
        if not version_moved:
            if self.folder_etags_propagate is not False:
                self._learn("a change below the folder left its ETag unchanged: no propagation")
            self.folder_etags_propagate = False
            self.propagation_evidence = 0
            return
        if direct_entries_changed or self.folder_etags_propagate is False:
            return
        self.propagation_evidence += 1
        if self.propagation_evidence >= PROPAGATION_PROOFS and not self.folder_etags_propagate:
            self.folder_etags_propagate = True
            self._learn("folder ETags follow changes below: one Depth-0 request per idle poll")

    # -- conditions ----------------------------------------------------------------------------

    def observe_condition(self, header: str, *, really_changed: bool) -> None:
        """A 412 for a request carrying `header` ("If-Match" or "If"), and whether a fresh look
        shows the resource had changed (the server evaluated the header) or not (it misread it)."""
        attribute = "tagged_if" if header == "If" else "if_match"
        if getattr(self, attribute) is not really_changed:
            self._learn(
                f"{header} is {'honoured' if really_changed else 'misread; not sent again'}"
            )
        setattr(self, attribute, really_changed)

    def observe_download(self, *, served_same: bool) -> None:
        """A download of a file listed with a strong ETag came with this (or another) ETag."""
        if self.strong_etags is not served_same:
            self._learn(f"listed strong ETags {'are' if served_same else 'are not'} served")
        self.strong_etags = served_same

    def _learn(self, what: str) -> None:
        log.info("%s: %s", self.server, what)

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, server: str) -> Capabilities:
        """The stored record if it is this server's, else a fresh one (nothing proven yet)."""
        if not isinstance(data, dict) or data.get("server") != server:
            return cls(server=server)
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return cls(server=server)
