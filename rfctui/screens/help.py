"""The ``?`` help screen, generated from the bindings (SPEC §7.2; STYLE §9.4).

Nothing here is hand-written per key: the tables come from the ``BINDINGS`` of the
screen and widgets, so a new binding shows up in the footer, here and in the command
palette at once. Only the badge legend and the filter syntax are prose.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from rfctui.text import one_line
from rfctui.widgets.rfc_list import BADGES

__all__ = ["HelpScreen", "binding_sections", "help_content"]

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


def declared_bindings(cls: type) -> list[BindingType]:
    """Every binding declared on ``cls`` and its bases, subclass first; a key+action
    declared twice is listed once (a subclass, e.g. the actions mixin, may redeclare)."""
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


def _sections(screen_cls: type | None = None) -> list[tuple[str, list[BindingType]]]:
    from rfctui.app import RfcApp
    from rfctui.screens.main import MainScreen
    from rfctui.widgets.detail import DetailPane, PullList
    from rfctui.widgets.filter_input import FilterInput
    from rfctui.widgets.rfc_list import RfcList

    main = screen_cls or MainScreen
    return [
        ("Everywhere", declared_bindings(main) + list(RfcApp.BINDINGS)),
        ("RFC list", list(RfcList.BINDINGS)),
        ("Filter box", list(FilterInput.BINDINGS)),
        ("Detail pane (enter or tab to focus)", list(DetailPane.BINDINGS)),
        ("Pull requests in the detail (tab)", list(PullList.BINDINGS)),
    ]


def binding_sections(screen_cls: type | None = None) -> list[tuple[str, list[Binding]]]:
    """The declared bindings with descriptions, by section (one row per declaration)."""
    out: list[tuple[str, list[Binding]]] = []
    for title, raw in _sections(screen_cls):
        rows = [b for b in raw if isinstance(b, Binding) and b.description]
        out.append((title, rows))
    return out


def _keys(app: object | None, binding: Binding) -> str:
    display = getattr(app, "get_key_display", None)
    shown = []
    for key in (k.strip() for k in binding.key.split(",")):
        shown.append(display(Binding(key, binding.action)) if display else key)
    return "  ".join(shown)


def _table(rows: list[tuple[str, str]], key_width: int = 18) -> list[Content]:
    return [Content.assemble(("  " + f"{k:<{key_width}}", "bold $text-accent"), d) for k, d in rows]


def help_content(
    app: object | None = None,
    screen_cls: type | None = None,
    skipped: Sequence[tuple[str, str]] = (),
) -> Content:
    """Keys (from the bindings), the badge legend and the filter syntax, as Content.

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
    for title, bindings in binding_sections(screen_cls):
        lines.append(Content.styled(title, "bold underline"))
        rows = [(_keys(app, b), b.tooltip or b.description) for b in bindings]
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

    BINDINGS: list[BindingType] = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help-close"),
    ]

    def __init__(
        self, screen_cls: type | None = None, skipped: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__()
        self.screen_cls = screen_cls  # the main screen's class (it may be a subclass)
        self.skipped = list(skipped)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(
                help_content(self.app, self.screen_cls, self.skipped), id="help-text", markup=False
            )

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
