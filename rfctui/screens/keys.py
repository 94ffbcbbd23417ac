"""The key table as data: what the footer, the help screen and the palette list.

A screen declares its ``BINDINGS`` once; `declared_bindings` collects them along its
classes, and the help screen (`rfctui.screens.help`) and the command palette
(`rfctui.app.BindingsProvider`) are *handed* the result — neither imports the screen
or the app, so there is no import cycle between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType

__all__ = [
    "MAIN_BINDINGS",
    "CONTEXT_KEYS",
    "FOOTER_LABELS",
    "FOOTER_ORDER",
    "KeyDisplay",
    "KeySection",
    "PaletteCommand",
    "declared_bindings",
    "described",
    "palette_commands",
    "shown_keys",
]

# A titled group of bindings in the help screen ("RFC list", "Filter box", …).
KeySection = tuple[str, list[BindingType]]
# How a key is shown (``App.get_key_display``: "question_mark" → "?").
KeyDisplay = Callable[[Binding], str]


@dataclass(frozen=True)
class PaletteCommand:
    """One command palette entry: a binding by its description."""

    name: str
    help: str
    action: str


def declared_bindings(cls: type) -> list[BindingType]:
    """Every binding declared on ``cls`` and its bases, subclass first; a key+action
    declared twice is listed once (a subclass may redeclare one)."""
    seen: set[tuple[str, str]] = set()
    out: list[BindingType] = []
    for klass in cls.__mro__:
        for binding in klass.__dict__.get("BINDINGS", ()):
            key = (
                (binding.key, binding.action)
                if isinstance(binding, Binding)
                else (str(binding[0]), str(binding[1]))
            )
            if key not in seen:
                seen.add(key)
                out.append(binding)
    return out


def described(bindings: Iterable[BindingType]) -> list[Binding]:
    """The bindings a person is told about: those with a description."""
    return [b for b in bindings if isinstance(b, Binding) and b.description]


def shown_keys(binding: Binding, key_display: KeyDisplay | None, sep: str) -> str:
    """The binding's keys ("question_mark,f1") as shown ("?", "f1"), joined by ``sep``."""
    keys = (k.strip() for k in binding.key.split(","))
    return sep.join(key_display(Binding(k, binding.action)) if key_display else k for k in keys)


def palette_commands(
    bindings: Iterable[BindingType], key_display: KeyDisplay | None = None
) -> list[PaletteCommand]:
    """The palette's entries for ``bindings``: named by description, keys in the help."""
    out: list[PaletteCommand] = []
    for binding in described(bindings):
        if binding.action in ("quit",):
            continue  # the palette has its own Quit
        keys = shown_keys(binding, key_display, ", ")
        help_text = f"{binding.tooltip} · key: {keys}" if binding.tooltip else f"key: {keys}"
        out.append(PaletteCommand(binding.description, help_text, binding.action))
    return out


# The main screen's keys: one table for its footer, the help screen and the palette.
MAIN_BINDINGS: tuple[BindingType, ...] = (
    # priority: handled as the key arrives, before the keys queued behind it are
    # routed, so a fast "/mine" types "mine" instead of running m, n and e.
    Binding(
        "slash",
        "focus_filter",
        "Filter",
        id="filter",
        tooltip="Filter the list as you type",
        priority=True,
    ),
    Binding(
        "escape",
        "clear_filter",
        "Clear filter",
        show=False,
        id="clear-filter",
        tooltip="Clear the filter (on the list)",
    ),
    Binding(
        "o",
        "open_browser",
        "Open",
        id="open",
        tooltip="Open the entry, pull request or pending idea in the browser",
    ),
    Binding(
        "y",
        "copy_link",
        "Copy link",
        show=False,
        id="copy-link",
        tooltip="Copy the link of the entry, pull request or idea",
    ),
    Binding(
        "L",
        "links",
        "Links",
        show=False,
        id="links",
        tooltip="List the links in the body and open one",
    ),
    Binding("r", "sync('quick')", "Refresh", id="refresh", tooltip="Quick sync now"),
    Binding(
        "R", "sync('full')", "Full sync", show=False, id="full-sync", tooltip="Full sync now"
    ),
    # Shown in the footer only when they can act on the highlighted row (CONTEXT_KEYS).
    Binding("n", "propose", "Propose idea", id="propose"),
    Binding("e", "edit", "Edit body", id="edit"),
    Binding("c", "claim", "Claim", id="claim"),
    Binding("m", "metadata", "Edit metadata", id="metadata"),
    Binding("a", "actions_view", "Actions log", id="actions"),
    # Issue 11: what needs you, the order of the list, saved views.
    Binding(
        "z",
        "snooze",
        "Snooze",
        id="snooze",
        tooltip="Hide the highlighted Needs you row until there is new activity",
    ),
    Binding(
        "s",
        "cycle_sort",
        "Sort",
        show=False,
        id="cycle-sort",
        tooltip="Sort within groups: name, time in state, last activity, RFC id",
    ),
    Binding(
        "b",
        "cycle_group",
        "Group by",
        show=False,
        id="cycle-group",
        tooltip="Group the list by state, tag, owner or arbiter",
    ),
    # Issue 12: review in the terminal (SPEC §10).
    Binding(
        "d",
        "change_view",
        "Changes",
        id="change-view",
        tooltip="What the highlighted pull request (or the entry's open ones) change",
    ),
    Binding(
        "t",
        "timeline",
        "Timeline",
        id="timeline",
        tooltip="The life of the highlighted entry: commits and pull requests, newest first",
    ),
    Binding(
        "C",
        "comment",
        "Comment",
        show=False,
        id="comment",
        tooltip="Comment on the highlighted pull request through the bot",
    ),
    # One line in the help and the palette for all nine (only "1" is described).
    Binding(
        "1",
        "view(1)",
        "Saved views",
        show=False,
        id="view-1",
        tooltip="Keys 1 to 9: filter with the team's saved views (.rfctui.toml [[views]])",
    ),
    *(Binding(str(n), f"view({n})", "", show=False, id=f"view-{n}") for n in range(2, 10)),
    Binding("question_mark,f1", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
)

# The footer (issue 14 §4). The actions in CONTEXT_KEYS show only while they can act on
# what is highlighted (`rfctui.screens.feedback`); their keys work in any case and say
# why not. FOOTER_LABELS are the footer's short words (help and palette keep the
# descriptions). FOOTER_ORDER: what stays when the terminal is too narrow for every
# key, most wanted first; the rest, then the palette's key, only if they fit.
CONTEXT_KEYS: frozenset[str] = frozenset(
    {"propose", "edit", "claim", "metadata", "actions_view", "change_view", "timeline",
     "snooze"}
)
FOOTER_LABELS: dict[str, str] = {
    "propose": "Propose",
    "edit": "Edit",
    "metadata": "Meta",
    "actions_view": "Actions",
    "change_view": "Diff",
}
FOOTER_ORDER: tuple[str, ...] = (
    "help",
    "focus_filter",
    "edit",
    "claim",
    "metadata",
    "propose",
    "change_view",
    "timeline",
    "snooze",
    "open_browser",
    "actions_view",
    "sync('quick')",
    "quit",
    "select",
)
