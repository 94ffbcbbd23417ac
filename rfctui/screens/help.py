"""The ``?`` help screen, generated from the bindings (SPEC §7.2; STYLE §9.4).

Nothing here is hand-written per key: the tables come from the ``BINDINGS`` of the
screen and widgets, so a new binding shows up in the footer, here and in the command
palette at once. Only the badge legend and the filter syntax are prose.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from rfctui.widgets.rfc_list import BADGES

__all__ = ["HelpScreen", "binding_sections", "help_markdown"]

FILTER_HELP = """\
Type `/` and start typing; the list narrows with every key. Terms combine (all must match):

| term | matches |
| --- | --- |
| `word`, `"two words"` | slug, title or body contains it |
| `state:graduated` | the state (also `state:pending`, unknown states) |
| `tag:x` · `owner:x` · `arbiter:x` | a tag, owner or arbiter (`x*` = prefix) |
| `mine` | you own, arbitrate or proposed it |
| `-term` | negates any term, e.g. `-state:withdrawn` |

`escape` in the filter box goes back to the list and keeps the filter;
`escape` on the list clears it.
"""


def _sections() -> list[tuple[str, list[BindingType]]]:
    from rfctui.app import RfcApp
    from rfctui.screens.main import MainScreen
    from rfctui.widgets.detail import DetailPane
    from rfctui.widgets.filter_input import FilterInput
    from rfctui.widgets.rfc_list import RfcList

    return [
        ("Everywhere", list(MainScreen.BINDINGS) + list(RfcApp.BINDINGS)),
        ("RFC list", list(RfcList.BINDINGS)),
        ("Filter box", list(FilterInput.BINDINGS)),
        ("Detail pane (tab to focus)", list(DetailPane.BINDINGS)),
    ]


def binding_sections() -> list[tuple[str, list[Binding]]]:
    """The declared bindings with descriptions, by section (one row per declaration)."""
    out: list[tuple[str, list[Binding]]] = []
    for title, raw in _sections():
        rows = [b for b in raw if isinstance(b, Binding) and b.description]
        out.append((title, rows))
    return out


def _keys(app_key_display: object, binding: Binding) -> str:
    display = getattr(app_key_display, "get_key_display", None)
    keys: Iterable[str] = (k.strip() for k in binding.key.split(","))
    shown = []
    for key in keys:
        if display is not None:
            shown.append(display(Binding(key, binding.action)))  # type: ignore[misc]
        else:
            shown.append(key)
    return " · ".join(f"`{k}`" for k in shown)


def help_markdown(app: object | None = None) -> str:
    parts = ["# rfctui keys\n"]
    for title, bindings in binding_sections():
        parts.append(f"\n## {title}\n\n| key | does |\n| --- | --- |")
        for b in bindings:
            parts.append(f"| {_keys(app, b)} | {b.description} |")
    parts.append("| `ctrl+p` | Command palette: every action above, by name |")
    parts.append("\n## Badges in the list\n\n| badge | meaning |\n| --- | --- |")
    for symbol, meaning in BADGES.values():
        parts.append(f"| `{symbol}N` | N {meaning} |")
    parts.append("| `removed` (dim) | deleted from the repository; kept from the cache |")
    parts.append("| `stale` | longer in one state than the stale threshold |")
    parts.append("| `[state]` | a state rfctui does not know, shown under Other |")
    parts.append("\n## Filter\n\n" + FILTER_HELP)
    return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """Keys, badges and filter syntax; escape, q or ? closes it."""

    BINDINGS: list[BindingType] = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help-close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(help_markdown(self.app), open_links=False)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
