"""The links of the shown body, to open one from the keyboard (SPEC §7.2, §7.4).

A mouse can click a link in the rendered body (and is asked first); ``L`` lists the
same links, with their full addresses, so a keyboard user can pick one. Picking is the
deliberate act the click's question stands for, so a picked http(s) link opens at once;
any other scheme is listed, greyed out, and never opens. Imported when it opens.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

__all__ = ["LinksScreen"]


class LinksScreen(ModalScreen[str | None]):
    """``(text, href)`` pairs (cleaned, `rfctui.text.markdown_links`); dismisses with the
    picked href, or None."""

    BINDINGS: list[BindingType] = [
        Binding("escape,q", "dismiss_links", "Close", id="links-close"),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
    ]

    def __init__(self, links: Sequence[tuple[str, str]], is_web: Sequence[bool]) -> None:
        super().__init__()
        self.links = list(links)
        self.is_web = list(is_web)

    def compose(self) -> ComposeResult:
        with Vertical(id="links"):
            yield Label(
                Content.assemble(
                    ("Links in this body", "bold"),
                    (" · enter opens one in your browser · escape closes", "$text-muted"),
                ),
                markup=False,
            )
            pairs = zip(self.links, self.is_web, strict=True)
            yield OptionList(
                *(
                    Option(self._prompt(text, href, web), id=str(n), disabled=not web)
                    for n, ((text, href), web) in enumerate(pairs)
                ),
                id="links-list",
                markup=False,
            )

    @staticmethod
    def _prompt(text: str, href: str, web: bool) -> Content:
        note = "" if web else "  (not opened: only http(s) links open)"
        return Content.assemble((text, "bold"), "\n", (href + note, "$text-muted"))

    def action_dismiss_links(self) -> None:
        self.dismiss(None)

    def action_cursor(self, direction: str) -> None:
        options = self.query_one(OptionList)
        if direction == "down":
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    @on(OptionList.OptionSelected, "#links-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id or -1)
        if 0 <= index < len(self.links) and self.is_web[index]:
            self.dismiss(self.links[index][1])
