"""Turn untrusted remote file names into local names that are safe on Windows, macOS and Linux."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from daemon.i18n import _

MAX_NAME_BYTES = 255
# A suffix longer than this is not an extension worth saving when a name must be shortened.
_MAX_EXTENSION_BYTES = 32

_FORBIDDEN = frozenset('<>:"/\\|?*')
_TRAILING = frozenset(". ")
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"{prefix}{digit}" for prefix in ("com", "lpt") for digit in "123456789¹²³"]
)


def _is_replaced(ch: str) -> bool:
    code = ord(ch)
    # Surrogates (from undecodable bytes) cannot be stored on Windows or macOS.
    return ch in _FORBIDDEN or code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF


def _is_reserved(name: str) -> bool:
    # Windows treats `con.txt`, `CON.tar.gz` and `con .txt` as the device too.
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem.casefold() in _RESERVED


def _display(name: str, limit: int = 80) -> str:
    """`name` as it can be shown in a message: invisible characters escaped, length bounded."""
    shown = "".join(
        f"\\u{ord(ch):04x}" if _is_replaced(ch) and ch not in _FORBIDDEN else ch for ch in name
    )
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _spelling(name: str, limit: int = 3) -> str:
    """How `name` spells its non-ASCII letters, to tell apart names that look the same:
    "é = U+00E9" (one code point, NFC) or "é = e + U+0301" (a letter and an accent, NFD)."""
    clusters: list[str] = []
    for ch in name:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    spelled = [
        "{} = {}".format(
            unicodedata.normalize("NFC", cluster),
            " + ".join(ch if ch.isascii() else f"U+{ord(ch):04X}" for ch in cluster),
        )
        for cluster in clusters
        if not cluster.isascii()
    ]
    if len(spelled) > limit:
        spelled = [*spelled[:limit], "…"]
    return ", ".join(spelled)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` that fits in `max_bytes`, never half a character."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def _truncate(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    if _utf8_len(name) <= max_bytes:
        return name
    dot = name.rfind(".")
    if dot > 0:
        stem, extension = name[:dot], name[dot:]
        room = max_bytes - _utf8_len(extension)
        if _utf8_len(extension) <= _MAX_EXTENSION_BYTES and room > 0:
            return _cut(stem, room) + extension
    return _cut(name, max_bytes)


def _one_pass(name: str) -> str:
    name = "".join("_" if _is_replaced(ch) else ch for ch in name)
    name = _truncate(name)
    if name[-1] in _TRAILING:
        # Windows silently drops trailing dots and spaces, so two names would meet on disk.
        name = name[:-1] + "_"
    if _is_reserved(name):
        name = "_" + name
    return name


def safe_local_name(remote_name: str) -> str | None:
    """The local name for `remote_name`, or None when nothing usable is left of it.

    The mapping is deterministic and idempotent: a name it returns maps to itself.
    Names starting with a dot are kept; whether to use dot-files is the caller's decision.
    """
    name = unicodedata.normalize("NFC", remote_name)
    if all(_is_replaced(ch) or ch in _TRAILING for ch in name):
        return None
    # A pass can make the name longer (reserved prefix) or expose a new last character
    # (truncation), so repeat until stable; it settles by the third pass.
    for _attempt in range(4):
        fixed = _one_pass(name)
        if fixed == name:
            break
        name = fixed
    return name


def is_safe_local_name(name: str) -> bool:
    """Whether `name` can be used locally exactly as it is."""
    return safe_local_name(name) == name


def collision_key(name: str) -> str:
    """What two names share when a case-insensitive, normalising file system sees one file.

    Canonical caseless matching (Unicode D145): case folding is not closed under
    normalisation, so decompose before folding and normalise again after.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


@dataclass(frozen=True)
class NameAssignment:
    """Remote name -> local name for the names kept, and a reason for each name skipped."""

    mapping: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def assign_local_names(remote_names: Iterable[str]) -> NameAssignment:
    """Give every remote name of one folder a distinct safe local name, or skip it.

    Names that are already safe are placed first, so that a name like `a?` mapped to `a_`
    never takes the place of a real `a_`; within each group names are taken in sorted order.
    The result does not depend on the order of `remote_names`.
    """
    unique = sorted(set(remote_names))
    safe_forms = {remote: safe_local_name(remote) for remote in unique}
    exact = [remote for remote in unique if safe_forms[remote] == remote]
    mapped = [remote for remote in unique if safe_forms[remote] != remote]

    mapping: dict[str, str] = {}
    skipped: dict[str, str] = {}
    owner_by_key: dict[str, str] = {}
    for remote in exact + mapped:
        local = safe_forms[remote]
        if local is None:
            skipped[remote] = _(
                "“{name}” cannot be used as a file name on this computer, so it was skipped."
            ).format(name=_display(remote))
            continue
        key = collision_key(local)
        other = owner_by_key.get(key)
        if other is not None:
            if unicodedata.normalize("NFC", remote) == unicodedata.normalize("NFC", other):
                # They look alike (one written with é, the other with e and an accent).
                skipped[remote] = _(
                    "“{name}” ({spelling}) was skipped because on this computer it would be the"
                    " same file as “{other}” ({other_spelling})."
                ).format(
                    name=_display(remote),
                    spelling=_spelling(remote),
                    other=_display(other),
                    other_spelling=_spelling(other),
                )
            else:
                skipped[remote] = _(
                    "“{name}” was skipped because on this computer it would be the same file"
                    " as “{other}”."
                ).format(name=_display(remote), other=_display(other))
            continue
        owner_by_key[key] = remote
        mapping[remote] = local
    return NameAssignment(
        mapping={remote: mapping[remote] for remote in sorted(mapping)},
        skipped=[(remote, skipped[remote]) for remote in sorted(skipped)],
    )
