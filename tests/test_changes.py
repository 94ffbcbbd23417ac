"""`rfctui.changes`: what a PR changes in an entry, for each PR kind (issue 12 §1)."""

from __future__ import annotations

from rfctui.changes import compute_change, overlaps

MAIN = (
    "---\nslug: alpha\ntitle: Alpha\nstate: idea\nproposed_by: ada\n"
    "proposed_at: 2026-01-02T03:04:05Z\nowners: [ada]\narbiters: [grace]\ntags: [x]\n"
    "color: blue\n---\nLine one.\nLine two.\nLine three.\n"
)


def test_propose_new_entry() -> None:
    ch = compute_change(None, MAIN, slug="alpha", kind="propose")
    assert ch.kind == "propose" and ch.problems == []
    assert ch.new_entry is not None and ch.new_entry.title == "Alpha"
    names = {f.name: (f.old, f.new) for f in ch.fields}
    assert names["title"] == (None, "Alpha")
    assert names["proposed_at"] == (None, "2026-01-02T03:04:05Z")
    assert names["color"] == (None, "blue")
    assert ch.body_changed and "+Line one." in ch.body_diff.splitlines()
    assert ch.body_diff.splitlines()[0].startswith("--- /dev/null")


def test_edit_body_diff_only() -> None:
    head = MAIN.replace("Line two.", "Line 2, better.")
    ch = compute_change(MAIN, head, slug="alpha")
    assert ch.kind == "edit" and ch.fields == []
    lines = ch.body_diff.splitlines()
    assert "-Line two." in lines and "+Line 2, better." in lines
    assert " Line one." in lines  # context
    assert ch.old_ranges == ((1, 2),)


def test_metadata_field_table_with_unknown_keys() -> None:
    head = MAIN.replace("state: idea", "state: parked").replace("tags: [x]", "tags: [x, dx]")
    head = head.replace("color: blue", "color: red\nsize: 3")
    ch = compute_change(MAIN, head, slug="alpha", kind="metadata")
    assert [(f.name, f.old, f.new) for f in ch.fields] == [
        ("state", "idea", "parked"), ("tags", ["x"], ["x", "dx"]),
        ("color", "blue", "red"), ("size", None, 3),
    ]
    assert not ch.body_changed and ch.body_diff == ""


def test_claim_changes_owners_only() -> None:
    head = MAIN.replace("owners: [ada]", "owners: [ada, ken]")
    ch = compute_change(MAIN, head, slug="alpha", kind="claim")
    assert [(f.name, f.old, f.new) for f in ch.fields] == [("owners", ["ada"], ["ada", "ken"])]
    assert ch.body_changed is False


def test_hostile_body_kept_as_data() -> None:
    evil = "Evil \x1b[31mred\x1b[0m \u202etxt.exe"
    head = MAIN.replace("Line three.", evil)
    ch = compute_change(MAIN, head, slug="alpha")
    assert f"+{evil}" in ch.body_diff.splitlines()
    assert "\x1b" in ch.body_diff and "\u202e" in ch.body_diff


def test_malformed_side_is_a_problem_not_a_crash() -> None:
    head = "---\nslug: alpha\ntitle: [unclosed\n---\nbody\n"
    ch = compute_change(MAIN, head, slug="alpha")
    assert len(ch.problems) == 1 and ch.problems[0].startswith("head: rfcs/alpha.md")
    assert "\n" not in ch.problems[0]
    assert ch.new_entry is None and ch.fields == [] and ch.body_changed
    ch2 = compute_change("not front matter at all", MAIN, slug="alpha")
    assert ch2.problems and ch2.problems[0].startswith("main: ")


def test_overlaps_same_field_and_lines() -> None:
    a = compute_change(MAIN, MAIN.replace("state: idea", "state: parked"), slug="alpha")
    b = compute_change(MAIN, MAIN.replace("state: idea", "state: declined"), slug="alpha")
    c = compute_change(MAIN, MAIN.replace("Line two.", "Two!"), slug="alpha")
    d = compute_change(MAIN, MAIN.replace("Line two.", "Deux."), slug="alpha")
    e = compute_change(MAIN, MAIN.replace("Line three.", "Three!"), slug="alpha")
    notes = overlaps([(1, a), (2, b), (3, c), (4, d), (5, e)])
    assert notes == [
        "#1 and #2 both change state",
        "#3 and #4 change overlapping body lines",
    ]
