"""The ``?`` help screen, generated from the bindings (SPEC §7.2; STYLE §9.4).

Nothing here is hand-written per key: the screen that opens the help hands it its key
table (`rfctui.screens.keys`: the ``BINDINGS`` of the screen and its widgets), so a new
binding shows up in the footer, here and in the command palette at once. Only the
badge legend and the filter syntax are prose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from rfctui.screens.keys import KeyDisplay, KeySection, described, shown_keys
from rfctui.text import one_line
from rfctui.widgets.rfc_list import BADGES

__all__ = ["HelpScreen", "help_content"]

FILTER_HELP: list[tuple[str, str]] = [
    ('word  "two words"', "slug, title, body, people or tags contain it"),
    ("state:graduated", "the state (also state:pending, unknown states)"),
    ("tag:x  owner:x  arbiter:x", "a tag, owner or arbiter (x* = prefix)"),
    ("mine", "you own, arbitrate or proposed it"),
    ("-term", "negates any term, e.g. -state:withdrawn"),
]
FILTER_NOTE = (
    "Terms combine (all must match). escape in the filter box returns to the list and "
    "keeps the filter; escape on the list clears it."
)


def _table(rows: list[tuple[str, str]], key_width: int = 18) -> list[Content]:
    return [Content.assemble(("  " + f"{k:<{key_width}}", "bold $text-accent"), d) for k, d in rows]


def help_content(
    sections: Sequence[KeySection],
    key_display: KeyDisplay | None = None,
    skipped: Sequence[tuple[str, str]] = (),
) -> Content:
    """Keys (``sections``: the bindings by title), the badge legend and the filter syntax.

    ``skipped``: malformed entries the reconciler left out (path, reason), listed
    first, since nothing else in the UI shows them.
    """
    lines: list[Content] = [Content.styled("rfctui — keys", "bold $text-primary"), Content("")]
    if skipped:
        lines.append(
            Content.styled(
                f"Skipped entries ({len(skipped)}): not shown", "bold underline $warning"
            )
        )
        for path, reason in skipped:
            lines.append(
                Content.assemble(("  " + one_line(path, 80), "bold"), ": " + one_line(reason, 160))
            )
        lines.append(Content("  Fix the file in the meta repository; the next sync picks it up."))
        lines.append(Content(""))
    for title, bindings in sections:
        lines.append(Content.styled(title, "bold underline"))
        rows = [(shown_keys(b, key_display, "  "), b.tooltip or b.description)
                for b in described(bindings)]
        if title == "Everywhere":
            rows.append(("ctrl+p", "Command palette: every action by name"))
        lines += _table(rows)
        lines.append(Content(""))
    lines.append(Content.styled("Badges in the list", "bold underline"))
    badge_rows = [(f"{symbol}N", f"N {meaning}") for symbol, meaning in BADGES.values()]
    badge_rows += [
        ("removed (dim)", "deleted from the repository; kept from the cache"),
        ("stale", "longer in one state than the stale threshold"),
        ("[state]", "a state rfctui does not know, listed under Other"),
        ("name · 3 d", "pending idea: its real proposer and age"),
    ]
    lines += _table(badge_rows)
    lines.append(Content(""))
    lines.append(Content.styled("Filter (/)", "bold underline"))
    lines += _table(FILTER_HELP)
    lines.append(Content("  " + FILTER_NOTE))
    lines.append(Content(""))
    lines.append(Content.styled("escape, q or ? closes this help.", "$text-muted"))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Keys, badges and filter syntax; escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help-close"),
    ]

    def __init__(
        self, sections: Sequence[KeySection], skipped: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__()
        self.sections = list(sections)  # the opening screen's key table, by title
        self.skipped = list(skipped)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            content = help_content(self.sections, self.app.get_key_display, self.skipped)
            yield Static(content, id="help-text", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
