"""What congsync says about remote names it cannot use: names that look alike are told apart."""

from __future__ import annotations

import unicodedata

from daemon.core.names import assign_local_names


def test_a_nfc_nfd_collision_names_the_two_spellings_distinguishably():
    composed = unicodedata.normalize("NFC", "Café.mp4")  # é as one code point
    decomposed = unicodedata.normalize("NFD", "Café.mp4")  # e, then a combining acute accent

    assignment = assign_local_names([composed, decomposed])

    assert list(assignment.mapping) == [composed]
    ((skipped, message),) = assignment.skipped
    assert skipped == decomposed
    assert "U+00E9" in message  # the one that is kept
    assert "e + U+0301" in message  # the one that is skipped
    assert message.index("e + U+0301") < message.index("U+00E9")  # each beside its own name
