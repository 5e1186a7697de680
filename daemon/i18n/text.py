"""A fact to be said, not yet a sentence: a message and its values, rendered in the language of
whoever shows it, when it is shown (`str(text)`), or in English for a log (`text.english()`).

Errors and the daemon's status carry these, so that the CLI, the tray and the panel each say
them in their user's language, while the log and the status file keep an English sentence.
`fact` and `plural_fact` are keywords of the catalogue's extractor, like `_` and `ngettext`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Union

from daemon import i18n


@dataclass(frozen=True)
class Size:
    """A number of bytes, said as "1.5 GB" / "1,5 GB"."""

    bytes: int | None


Param = Union[str, int, float, date, datetime, Size, "Text"]


@dataclass(frozen=True)
class Text:
    """`msgid` (with `{named}` placeholders) and the values of its placeholders; for a count,
    `plural` and `n` choose the form by the language's plural rule. `literal`: a sentence made
    elsewhere (a server's own words), shown as it is."""

    msgid: str
    params: tuple[tuple[str, Param], ...] = ()
    plural: str | None = None
    n: int | None = None
    literal: bool = False

    def __str__(self) -> str:
        return render(self)

    def __bool__(self) -> bool:
        return bool(self.msgid)

    def english(self) -> str:
        """The sentence in English, for logs a helper from anywhere can read."""
        return render(self, i18n.SOURCE_LANGUAGE)

    def to_json(self) -> dict[str, Any]:
        """`{"text": English, "msgid": …, "params": {…typed…}}`; "text" keeps older readers working."""
        data: dict[str, Any] = {
            "text": self.english(),
            "msgid": self.msgid,
            "params": {name: _param_to_json(value) for name, value in self.params},
        }
        if self.plural is not None:
            data.update(plural=self.plural, n=self.n)
        if self.literal:
            data["literal"] = True
        return data

    @classmethod
    def from_json(cls, data: object) -> Text:
        """Back from `to_json` (or from an older reader's plain sentence)."""
        if isinstance(data, str):
            return verbatim(data)
        if not isinstance(data, Mapping) or not isinstance(data.get("msgid"), str):
            return verbatim("")
        raw = data.get("params")
        params = raw if isinstance(raw, Mapping) else {}
        n = data.get("n")
        plural = data.get("plural")
        return cls(
            data["msgid"],
            tuple((str(k), _param_from_json(v)) for k, v in params.items()),
            plural if isinstance(plural, str) else None,
            n if isinstance(n, int) else None,
            bool(data.get("literal", False)),
        )


def fact(msgid: str, /, **params: object) -> Text:
    """A sentence to be translated when shown: `fact("Cannot read {path}.", path=p)`.

    Values other than those a `Param` may be (a path, an exception) are kept as their text."""
    return Text(msgid, _params(params))


def plural_fact(singular: str, plural: str, n: int, /, **params: object) -> Text:
    """A sentence whose form follows the count `n` (pass the count as a parameter too)."""
    return Text(singular, _params(params), plural, n)


def _params(params: Mapping[str, object]) -> tuple[tuple[str, Param], ...]:
    return tuple((name, _param(value)) for name, value in params.items())


def _param(value: object) -> Param:
    if isinstance(value, str | int | float | date | Size | Text):  # datetime is a date
        return value
    return str(value)


def verbatim(sentence: str) -> Text:
    """A sentence that is already made (a server's words, an older caller's sentence)."""
    return Text(sentence, literal=True)


#: No message.
NO_TEXT = verbatim("")


def as_text(message: str | Text) -> Text:
    return message if isinstance(message, Text) else verbatim(message)


def render_json(data: object) -> str:
    """A message as status and the control API carry it (`Text.to_json`, or an older plain
    sentence), said now in the current language."""
    return render(Text.from_json(data or ""))


def render(text: str | Text, language: str | None = None) -> str:
    """The sentence in `language` (default: the current one). A catalogue whose translation
    does not fit its placeholders falls back to the English sentence rather than failing."""
    if isinstance(text, str):
        return text
    if text.literal:
        return text.msgid
    # The current language read once: a face switching it meanwhile (another thread) cannot
    # leave this sentence half in one language and half in the other.
    language = language or i18n.current_language()
    values = {name: _render_param(value, language) for name, value in text.params}
    translation = i18n.translation_for(language)
    if text.plural is not None:
        pattern = translation.ngettext(text.msgid, text.plural, text.n or 0)
        source = text.msgid if text.n == 1 else text.plural
    else:
        pattern = translation.gettext(text.msgid)
        source = text.msgid
    for candidate in (pattern, source):
        try:
            return candidate.format(**values)
        except (KeyError, IndexError, ValueError):
            continue
    return source


def _render_param(value: Param, language: str) -> Any:
    if isinstance(value, Text):
        return render(value, language)
    if isinstance(value, Size):
        return i18n.human_size(value.bytes, language=language)
    if isinstance(value, datetime):
        return i18n.format_instant(value, language=language)
    if isinstance(value, date):
        return i18n.format_day(value, language=language)
    return value  # str, int, float: Python's formatting (placeholders may carry a format spec)


def _param_to_json(value: Param) -> Any:
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, Size):
        return {"size": value.bytes}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def _param_from_json(value: Any) -> Param:
    if isinstance(value, Mapping):
        if "msgid" in value:
            return Text.from_json(value)
        try:
            if "size" in value:
                size = value["size"]
                return Size(size if isinstance(size, int) else None)
            if "datetime" in value:
                return datetime.fromisoformat(str(value["datetime"]))
            if "date" in value:
                return date.fromisoformat(str(value["date"]))
        except ValueError:
            pass
        return str(value.get("text", ""))
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    return str(value)
