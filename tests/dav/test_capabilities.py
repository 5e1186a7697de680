"""What a server has proven: learned only from evidence, taken back by a counter-example."""

from __future__ import annotations

from daemon.dav import Capabilities


def changed_below(caps: Capabilities, *, moved: bool, direct: bool = False) -> None:
    caps.observe_folder(changed_below=True, version_moved=moved, direct_entries_changed=direct)


def test_two_changes_below_that_moved_the_folder_version_prove_propagation() -> None:
    caps = Capabilities("s")
    changed_below(caps, moved=True)
    assert caps.folder_etags_propagate is None
    changed_below(caps, moved=True)
    assert caps.folder_etags_propagate is True


def test_a_change_of_the_folders_own_entries_proves_nothing() -> None:
    """Apache moves a folder's ETag for its direct entries: the staging folder appearing, or
    forcedPrefs.json replaced, coinciding with new media, is no evidence."""
    caps = Capabilities("s")
    for _ in range(5):
        changed_below(caps, moved=True, direct=True)
    assert caps.folder_etags_propagate is None
    assert caps.propagation_evidence == 0


def test_one_change_below_without_the_version_moving_is_a_counter_example_for_good() -> None:
    caps = Capabilities("s")
    changed_below(caps, moved=True)
    changed_below(caps, moved=True)
    changed_below(caps, moved=False)
    assert caps.folder_etags_propagate is False
    changed_below(caps, moved=True)
    changed_below(caps, moved=True)
    assert caps.folder_etags_propagate is False


def test_nothing_changed_below_teaches_nothing() -> None:
    caps = Capabilities("s")
    caps.observe_folder(changed_below=False, version_moved=False, direct_entries_changed=False)
    assert (caps.folder_etags_propagate, caps.propagation_evidence) == (None, 0)


def test_a_412_tells_whether_the_header_is_evaluated() -> None:
    caps = Capabilities("s")
    caps.observe_condition("If-Match", really_changed=True)
    caps.observe_condition("If", really_changed=False)
    assert caps.if_match is True
    assert caps.tagged_if is False


def test_the_record_survives_a_restart_for_the_same_server_only() -> None:
    caps = Capabilities("https://a.example/dav/c/")
    changed_below(caps, moved=True)
    caps.observe_condition("If", really_changed=False)
    stored = caps.to_json()
    again = Capabilities.from_json(stored, "https://a.example/dav/c/")
    assert again == caps
    assert Capabilities.from_json(stored, "https://b.example/dav/c/") == Capabilities(
        "https://b.example/dav/c/"
    )
    assert Capabilities.from_json("garbage", "x") == Capabilities("x")
