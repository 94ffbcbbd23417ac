"""The links of the shown body, to open one from the keyboard (SPEC §7.2, §7.4).

A mouse can click a link in the rendered body (and is asked first); ``L`` lists the
same links, with their full addresses, so a keyboard user can pick one. Picking is the
deliberate act the click's question stands for, so a picked http(s) link opens at once;
any other scheme is listed, greyed out, and never opens.

Also here: the one check every address passes before it reaches the browser
(`is_web_url`), the address of an entry (`entry_url`) and the question a clicked link
asks first (`ConfirmOpen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from rfctui.rows import ListItem
from rfctui.text import clean

if TYPE_CHECKING:
    from rfctui.config import Config

__all__ = ["ConfirmOpen", "LinksScreen", "entry_url", "is_web_url"]


def is_web_url(url: str | None) -> bool:
    """Only http(s) URLs with a host ever reach the browser (§7.4)."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and url == clean(url)


def entry_url(item: ListItem, config: Config) -> str | None:
    """The page for ``item``: its own link, else the entry file on main (None: none)."""
    if item.html_url and is_web_url(item.html_url):
        return item.html_url
    if item.kind == "pending":
        return None
    from rfctui.entry import InvalidSlug, validate_slug  # YAML: not on the first paint

    try:
        slug = validate_slug(item.slug)
    except InvalidSlug:
        return None
    base = str(config.gitea_url).rstrip("/")
    return f"{base}/{config.org}/{config.meta_repo}/src/branch/main/rfcs/{slug}.md"


class ConfirmOpen(ModalScreen[bool]):
    """Asks before a link from someone else's markdown opens in the browser (§7.4)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Open", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "Cancel", id="confirm-no"),
    ]

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Label(Content("Open this link in your browser?"), markup=False)
            yield Label(Content(self.url), id="confirm-url", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("Open (y)", id="yes", variant="primary")
                yield Button("Cancel (n)", id="no")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class LinksScreen(ModalScreen[str | None]):
    """``(text, href)`` pairs (cleaned, `rfctui.text.markdown_links`); dismisses with the
    picked href, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
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
