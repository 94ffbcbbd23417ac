"""The links of the shown body, to open one from the keyboard (SPEC §7.2, §7.4).

A mouse can click a link in the rendered body (and is asked first); ``L`` lists the
same links, with their full addresses, so a keyboard user can pick one. Picking is the
deliberate act the click's question stands for, so a picked http(s) link opens at once;
any other scheme is listed, greyed out, and never opens.

Above the web links, ``L`` lists the body's references to other entries (issue 12 §5,
`rfctui.xrefs`: ``superseded_by``, ``RFC-N``, ``#N``, other entries' slugs); picking one
jumps the list to that entry or pending idea, clearing a filter that hides it first
(`open_links`, `jump_to`). ``#N`` needs the cache (which entry a PR belongs to): that
lookup runs in a thread worker, which hands the finished list to the UI thread to push
the modal (the one thing a worker does through ``call_from_thread``).

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
from rfctui.text import clean, markdown_links, one_line
from rfctui.xrefs import Ref, Target, find_refs, mentioned_prs

if TYPE_CHECKING:
    from rfctui.config import Config
    from rfctui.screens.main import MainScreen

__all__ = ["ConfirmOpen", "LinksScreen", "entry_url", "is_web_url", "jump_to", "open_links",
           "ref_prompt"]


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


def ref_prompt(ref: Ref) -> Content:
    """``→ typed-config  RFC-12 Typed configuration  (superseded_by)``, cleaned."""
    t = ref.target
    number = f"RFC-{t.rfc_id} " if t.rfc_id is not None else ""
    if t.kind == "pending":
        number = "pending idea: "
    said = ref.via in (t.slug, f"RFC-{t.rfc_id}")  # already on the line
    via = "" if said else f"  ({one_line(ref.via, 40)})"
    return Content.assemble(
        "→ ", (clean(t.slug), "bold"), "  ", (number, "$accent"), one_line(t.title, 120),
        (via, "$text-muted"),
    )


class LinksScreen(ModalScreen[str | Ref | None]):
    """``(text, href)`` pairs (cleaned, `rfctui.text.markdown_links`) below the in-app
    references `refs`; dismisses with the picked href, the picked `Ref`, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss_links", "Close", id="links-close"),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
    ]

    def __init__(
        self,
        links: Sequence[tuple[str, str]],
        is_web: Sequence[bool],
        refs: Sequence[Ref] = (),
    ) -> None:
        super().__init__()
        self.links = list(links)
        self.is_web = list(is_web)
        self.refs = list(refs)

    def compose(self) -> ComposeResult:
        with Vertical(id="links"):
            if self.refs:
                title = Content.assemble(
                    ("References and links", "bold"),
                    (" · enter jumps or opens · escape closes", "$text-muted"),
                )
            else:
                title = Content.assemble(
                    ("Links in this body", "bold"),
                    (" · enter opens one in your browser · escape closes", "$text-muted"),
                )
            yield Label(title, markup=False)
            pairs = zip(self.links, self.is_web, strict=True)
            yield OptionList(
                *(Option(ref_prompt(ref), id=f"ref-{n}") for n, ref in enumerate(self.refs)),
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
        option_id = event.option.id or "-1"
        if option_id.startswith("ref-"):
            ref_index = int(option_id[4:])
            if 0 <= ref_index < len(self.refs):
                self.dismiss(self.refs[ref_index])
            return
        index = int(option_id)
        if 0 <= index < len(self.links) and self.is_web[index]:
            self.dismiss(self.links[index][1])


# -- L on the main screen (moved out of main.py, which stays under 800 lines) ----------


def open_links(screen: MainScreen) -> None:
    """``L``: the shown body's references and links, so the keyboard reaches them (§7.4,
    issue 12 §5). ``#N`` of a PR that is not a pending idea is looked up in the cache in
    a thread worker first."""
    from rfctui.widgets.detail import DetailPane

    pane = screen.query_one(DetailPane)
    item = pane.item
    if item is None:
        screen.notify("No links in this body.", markup=False)
        return
    body = pane.body_text
    fields: dict[str, object] = dict(pane.detail.extra) if pane.detail is not None else {}
    known = [Target("rfc", i.slug, i.title, i.rfc_id) for i in screen.items if i.kind == "rfc"]
    prs = {
        i.pr_number: Target("pending", i.slug, i.title)
        for i in screen.items
        if i.kind == "pending" and i.pr_number is not None
    }
    own = item.slug if item.kind == "rfc" else ""
    links = markdown_links(body)

    def show(found: list[Ref]) -> None:
        # A pending idea's own "#N" is no reference either.
        refs = [r for r in found if (r.target.kind, r.target.slug) != (item.kind, item.slug)]
        if not links and not refs:
            screen.notify("No links in this body.", markup=False)
            return

        def picked(choice: str | Ref | None) -> None:
            if isinstance(choice, Ref):
                jump_to(screen, choice.target)
            elif choice:
                screen.open_url(choice)

        modal = LinksScreen(links, [is_web_url(href) for _text, href in links], refs)
        screen.app.push_screen(modal, picked)

    unknown = [n for n in mentioned_prs(body) if n not in prs]
    if not unknown:
        show(find_refs(own, body, fields, known, prs))
        return

    def look_up() -> None:  # a thread worker: the cache, then the UI thread shows it
        rows = screen.session.cache().pr_rows(unknown)
        by_slug = {t.slug: t for t in known}
        more = dict(prs)
        for number, row in rows.items():
            target = by_slug.get(str(row.get("rfc_slug") or ""))
            if target is not None:
                more[number] = target
        screen.app.call_from_thread(show, find_refs(own, body, fields, known, more))

    screen.run_worker(look_up, thread=True, group="links", exit_on_error=False,
                      description="Reading the referenced pull requests")


def jump_to(screen: MainScreen, target: Target) -> None:
    """Select `target` in the list; a filter that hides it is cleared first (and says
    so); still hidden (another view) or gone: one line says so."""
    from rfctui.widgets.rfc_list import RfcList

    rfc_list = screen.query_one(RfcList)
    name = one_line(target.slug, 80)
    if not rfc_list.select_slug(target.slug, target.kind):
        if not screen.query_text:
            screen.notify(f"{name} is not in the list.", markup=False)
            return
        screen.action_clear_filter()  # the box; the list is refiltered right away:
        screen.query_text = ""
        screen._apply_filter()
        if not rfc_list.select_slug(target.slug, target.kind):
            screen.notify(f"{name} is not in the list.", markup=False)
            return
        screen.notify(f"Filter cleared to show {name}.", markup=False)
    screen.set_focus(rfc_list)
