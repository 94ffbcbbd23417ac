"""The right pane: one RFC entry or pending idea (SPEC §7.1, §7.3, §7.4).

Metadata and pull requests are built as ``Content`` objects from cleaned text, never as
markup. The body goes to Textual's ``Markdown`` (which does not interpret console markup)
after ``text.clean`` removed escape sequences, with links that never open on their own:
``open_links=False``, and the screen decides what a click does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from rfctui.attention import QueueItem
from rfctui.rows import ListItem, PRRow, RFCDetail
from rfctui.text import clean, html_blocks_as_code, humanize_age, humanize_span
from rfctui.widgets.rfc_list import pending_title

__all__ = ["BODY_CHUNK", "BODY_HEAD", "BODY_LIMIT", "PR_KIND_LABELS", "DetailPane", "PullList",
           "body_chunks"]

# Bodies beyond this are cut (with a visible note): a 5 MB entry must not stall the UI.
BODY_LIMIT = 100_000
# Issue 13: Markdown takes 0.4 s for a 9 KB body, 3.7 s for 172 KB. The first screenful
# (BODY_HEAD characters, cut at a block boundary) is rendered first, the rest appended
# BODY_CHUNK at a time (~50 ms of mounting and layout each) while less than BODY_AHEAD
# screens of it are below the view: as the reader scrolls, never all of it at once.
BODY_HEAD = 2_500
BODY_CHUNK = 2_000
BODY_AHEAD = 2
_FENCES = ("```", "~~~")


def body_chunks(text: str, head: int = BODY_HEAD, size: int = BODY_CHUNK) -> list[str]:
    """``text`` cut into pieces that join back to it: the first about ``head``
    characters, then about ``size`` each, each cut at a blank line outside a code fence
    before a line that starts a block (not indented), so no block is split if it can be
    helped (`Markdown.append` re-reads the last block in any case)."""
    if len(text) <= head:
        return [text]
    lines = text.splitlines(keepends=True)
    chunks: list[str] = []
    start = length = 0
    fence = False
    target = head
    for i, line in enumerate(lines):
        length += len(line)
        if line.lstrip().startswith(_FENCES):
            fence = not fence
        if (length >= target and not fence and not line.strip() and i + 1 < len(lines)
                and lines[i + 1][:1] not in (" ", "\t", "\n", "")):
            chunks.append("".join(lines[start : i + 1]))
            start, length, target = i + 1, 0, size
    if start < len(lines):
        chunks.append("".join(lines[start:]))
    return chunks

PR_KIND_LABELS: dict[str, str] = {
    "idea": "proposal",
    "meta_body_edit": "body edit",
    "meta_claim": "claim",
    "meta_metadata": "metadata",
}
_STATE_STYLE = {"open": "bold $success", "merged": "$accent", "closed": "$text-muted"}


def _date(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return "—"
    return f"{dt.astimezone(UTC):%Y-%m-%d} ({humanize_age(dt, now)})"


def _logins(names: Sequence[str]) -> str:
    return ", ".join(clean(n) for n in names) if names else "—"


def cap_body(body: str) -> tuple[str, bool]:
    """The cleaned body, cut at ``BODY_LIMIT`` characters; True if it was cut."""
    text = clean(body, multiline=True)
    if len(text) <= BODY_LIMIT:
        return text, False
    return text[:BODY_LIMIT], True


class PullList(OptionList):
    """The entry's pull requests; ``o`` on a highlighted one opens it (screen binding)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("enter", "select", "Open the pull request", id="pulls-open"),
        Binding("escape", "back", "Back to list", id="pulls-back"),
    ]

    def action_back(self) -> None:
        self.screen.set_focus(self.screen.query_one("#rfc-list"))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, **kwargs)  # type: ignore[arg-type]
        self.pulls: list[PRRow] = []

    def set_pulls(self, pulls: Sequence[PRRow], now: datetime) -> None:
        self.pulls = list(pulls)
        self.clear_options()
        self.add_options([Option(self._prompt(p, now), id=str(p.number)) for p in pulls])
        self.display = bool(pulls)

    @staticmethod
    def _prompt(pr: PRRow, now: datetime) -> Content:
        kind = PR_KIND_LABELS.get(pr.kind, clean(pr.kind))
        return Content.assemble(
            (f"#{pr.number} ", "bold"),
            (f"{kind} ", "$text-accent"),
            (pr.state, _STATE_STYLE.get(pr.state, "")),
            (" · ", "$text-muted"),
            Content(clean(pr.opened_by) or "?"),
            (f" · {humanize_age(pr.opened_at, now)} · ", "$text-muted"),
            Content(clean(pr.title)),
        )

    @property
    def highlighted_pull(self) -> PRRow | None:
        if self.highlighted is None or not (0 <= self.highlighted < len(self.pulls)):
            return None
        return self.pulls[self.highlighted]


class DetailPane(VerticalScroll, can_focus=True):
    """Metadata, pull requests and the markdown body of the highlighted item."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False),
        Binding("k", "scroll_up", "Scroll up", show=False),
        Binding("escape", "back", "Back to list", id="detail-back"),
    ]

    def action_back(self) -> None:
        self.screen.set_focus(self.screen.query_one("#rfc-list"))

    def __init__(self, *, clock: Callable[[], datetime] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._clock = clock or (lambda: datetime.now(UTC))
        self.item: ListItem | None = None
        self.detail: RFCDetail | None = None
        self._markdown: Any = None
        self._pending_body = ""  # the body to show once the Markdown widget exists
        self.body_text = ""  # the (cleaned, capped) markdown shown: `L` lists its links
        self._body_scheduled = False
        self._rest: list[str] = []  # the body's chunks not shown yet (`_feed`)
        self._body_gen = 0  # which body `_feed` appends to (bumped for every new one)
        self._feeding: int | None = None  # the body a `_feed` runs for

    def _set_body(self, text: str) -> None:
        """Show ``text`` as markdown; links never open by themselves (§7.4).

        The Markdown widget (and markdown-it, ~30 ms to import) is created once the
        frame that shows the first item is out (after its refresh, on a later turn of
        the event loop): Markdown mounts its blocks a frame later in any case, so the
        first paint (list, metadata, pull requests) does not wait for it.

        Issue 13: the first screenful is rendered first and the rest appended by
        `_feed`; the same text again renders nothing.
        """
        if text == self.body_text and (self._markdown is not None or self._body_scheduled):
            return  # already shown (or on its way): never rendered twice
        self.body_text = text
        chunks = body_chunks(html_blocks_as_code(text))  # Markdown drops raw HTML
        # In pieces, all of them appended: `Markdown.append` after `update` would re-read
        # from the update's last line, not its last block's first.
        self._rest = chunks if len(chunks) > 1 else []
        first = "" if self._rest else chunks[0]
        self._body_gen += 1
        self.workers.cancel_group(self, "body")  # no chunk of the last body comes after
        if self._markdown is not None:
            self._start_feed(self._markdown.update(first))
            return
        self._pending_body = first
        if not self._body_scheduled:
            self._body_scheduled = True
            self.call_after_refresh(self.call_later, self._mount_body)

    def _mount_body(self) -> None:
        if not self.is_attached or self._markdown is not None:
            return  # the app closed in between
        from textual.widgets import Markdown

        self._markdown = Markdown(self._pending_body, id="detail-body", open_links=False)
        self._start_feed(self.mount(self._markdown))

    def _ahead(self) -> bool:
        return self.max_scroll_y - self.scroll_y > BODY_AHEAD * max(self.size.height, 1)

    def _start_feed(self, shown: Awaitable[object]) -> None:
        """Append the chunks once ``shown`` (the emptying update, or the mount) is done."""
        if self._rest:
            self.run_worker(self._feed(self._body_gen, shown, self._rest), group="body",
                            exclusive=True, exit_on_error=False, description="Body")

    async def _feed(self, gen: int, shown: Awaitable[object], chunks: list[str]) -> None:
        """Append ``chunks`` to the body, the first at once, the others a frame apart
        while the view nears the end of what is shown (`_ahead`; a scroll resumes it).
        Stops when the body changes, checked just before each append: a chunk never
        lands in another body.

        `Markdown.append` takes up where the last parse ended, so it must not start
        before the emptying update is done; shielded: a cancelled feed leaves it be.
        """
        markdown = self._markdown
        self._feeding = gen
        try:
            await asyncio.shield(asyncio.ensure_future(shown))
            first = True
            while chunks:
                if not first:
                    await asyncio.sleep(1 / 60)
                    if self._ahead():
                        return  # enough below the view: the rest on a scroll
                first = False
                if gen != self._body_gen or markdown is not self._markdown:
                    return
                await markdown.append(chunks.pop(0))
        finally:
            if self._feeding == gen:
                self._feeding = None

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._rest and self._feeding != self._body_gen and not self._ahead():
            self._start_feed(asyncio.sleep(0))

    def compose(self) -> ComposeResult:
        yield Static(Content("Nothing selected."), id="detail-title", markup=False)
        yield Static(Content(""), id="detail-news", markup=False)
        yield Static(Content(""), id="detail-meta", markup=False)
        yield Static(Content(""), id="detail-pulls-title", markup=False)
        yield PullList(id="detail-pulls")
        yield Static(Content(""), id="detail-note", markup=False)

    def on_mount(self) -> None:
        self.query_one(PullList).display = False
        self.query_one("#detail-note").display = False
        self.query_one("#detail-pulls-title").display = False
        self.query_one("#detail-news").display = False

    def show_news(self, item: ListItem, text: str | None) -> None:
        """"New since you last looked: …" above the metadata (issue 11 §4); None hides.

        Only for ``item`` if it is still the one shown (the cursor may have moved on).
        """
        news = self.query_one("#detail-news", Static)
        if self.item is None or (self.item.kind, self.item.slug) != (item.kind, item.slug):
            return
        news.update(Content.assemble(("New since you last looked: ", "bold"), text or ""))
        news.display = bool(text)

    # -- public ---------------------------------------------------------------------

    def show_queue_item(self, q: QueueItem) -> None:
        """A "Needs you" row: what waits, since when, and what the keys do (issue 11)."""
        now = self._clock()
        self.show_message("")
        self.query_one("#detail-title", Static).update(
            Content.assemble((clean(q.title) or clean(q.slug), "bold"), "\n",
                             (clean(q.slug), "$text-muted"))
        )
        pairs: list[tuple[str, Content | str]] = [
            ("why", Content.styled(clean(q.text), "bold $text-warning")),
            ("waiting", f"since {_date(q.since, now)}" if q.since else "—"),
        ]
        if q.pr_number is not None:
            pairs.append(("pull request", f"#{q.pr_number}"))
        if q.snoozed:
            pairs.append(("snoozed", "until there is new activity"))
        keys = Content.assemble(
            ("enter", "bold"), " shows the entry · ", ("z", "bold"),
            " snoozes this until there is new activity",
        )
        self.query_one("#detail-meta", Static).update(
            Content("\n").join([self._rows(pairs), Content(""), keys])
        )

    def show_message(self, title: str, text: str = "") -> None:
        """A plain message instead of an item (empty cache, a group header)."""
        self.item = None
        self.detail = None
        self.query_one("#detail-title", Static).update(Content(title))
        self.query_one("#detail-meta", Static).update(Content(text))
        self.query_one(PullList).set_pulls([], self._clock())
        self.query_one("#detail-pulls-title").display = False
        self.query_one("#detail-note").display = False
        self.query_one("#detail-news").display = False
        self._body_gen += 1
        self.workers.cancel_group(self, "body")
        self._rest = []
        if self._markdown is not None and self.body_text:
            self._markdown.update("")
        self._pending_body = self.body_text = ""

    def show(self, item: ListItem, detail: RFCDetail | None, pulls: Sequence[PRRow]) -> None:
        """Show ``item``; ``detail`` and ``pulls`` come from the cache (may be missing)."""
        now = self._clock()
        moved = self.item is None or (self.item.kind, self.item.slug) != (item.kind, item.slug)
        if moved:
            self.query_one("#detail-news").display = False  # another entry's news
        self.item = item
        self.detail = detail
        if item.kind == "pending":
            title = pending_title(item.title)
        else:
            title = clean(detail.title if detail else item.title) or clean(item.slug)
        self.query_one("#detail-title", Static).update(
            Content.assemble((title, "bold"), "\n", (clean(item.slug), "$text-muted"))
        )
        if item.kind == "pending":
            meta, body, pr_list = self._pending(item, pulls, now)
        else:
            meta, body, pr_list = self._rfc(item, detail, pulls, now)
        self.query_one("#detail-meta", Static).update(meta)
        heading = self.query_one("#detail-pulls-title", Static)
        heading.update(Content.assemble(("Pull requests", "bold"), f" ({len(pr_list)})"))
        heading.display = bool(pr_list)
        self.query_one(PullList).set_pulls(pr_list, now)
        text, truncated = cap_body(body)
        note = self.query_one("#detail-note", Static)
        note.update(
            Content(
                f"body truncated: showing the first {BODY_LIMIT // 1000} kB"
                " — press o to read it all in the browser"
            )
        )
        note.display = truncated
        same = not moved and self.body_text == (text or "*(no body)*")
        self._set_body(text or "*(no body)*")
        if not same:  # the same entry read again (a sync) stays where it was scrolled to
            self.scroll_home(animate=False)

    # -- builders -------------------------------------------------------------------

    @staticmethod
    def _rows(pairs: Sequence[tuple[str, Content | str]]) -> Content:
        width = max(11, *(len(label) + 1 for label, _v in pairs))
        lines = [
            Content.assemble(
                (label.ljust(width), "$text-muted"),
                value if isinstance(value, Content) else Content(value),
            )
            for label, value in pairs
        ]
        return Content("\n").join(lines)

    def _rfc(
        self,
        item: ListItem,
        detail: RFCDetail | None,
        pulls: Sequence[PRRow],
        now: datetime,
    ) -> tuple[Content, str, list[PRRow]]:
        d = detail
        state = clean(d.state if d else item.state)
        since = d.state_since if d else item.state_since
        state_value = Content.assemble((state, "bold"))
        if since is not None:
            state_value += Content(f" · {humanize_span(since, now)} in this state")
        if item.stale:
            state_value += Content.assemble(" ", ("stale", "bold $warning"))
        if d.removed if d else item.removed:
            state_value += Content.assemble(" ", ("removed from the repository", "bold $error"))
        pairs: list[tuple[str, Content | str]] = [("state", state_value)]
        rfc_id = d.rfc_id if d else item.rfc_id
        if rfc_id is not None:
            pairs.append(("id", f"#{rfc_id}"))
        if d and d.repo:
            pairs.append(("repo", clean(d.repo)))
        pairs.append(
            (
                "owners",
                _logins(d.owners if d else item.owners)
                if (d.owners if d else item.owners)
                else "— (unclaimed)",
            )
        )
        pairs.append(("arbiters", _logins(d.arbiters if d else item.arbiters)))
        pairs.append(("tags", _logins(d.tags if d else item.tags)))
        by = clean(d.proposed_by if d else item.proposed_by) or "—"
        pairs.append(
            ("proposed", f"by {by} · {_date(d.proposed_at if d else item.proposed_at, now)}")
        )
        if d and (d.graduated_at or d.graduated_by):
            pairs.append(
                ("graduated", f"by {clean(d.graduated_by) or '—'} · {_date(d.graduated_at, now)}")
            )
        if d:
            for key, value in d.extra.items():
                shown = _logins(value) if isinstance(value, list | tuple) else clean(str(value))
                pairs.append((clean(str(key)).replace("_", " ")[:20], shown))
        body = d.body if d else ""
        pr_list = sorted(pulls, key=lambda p: (p.state != "open", -p.number))
        return self._rows(pairs), body, pr_list

    def _pending(
        self, item: ListItem, pulls: Sequence[PRRow], now: datetime
    ) -> tuple[Content, str, list[PRRow]]:
        pr = next((p for p in pulls if p.number == item.pr_number), None)
        who = clean(pr.opened_by if pr else item.proposed_by) or "?"
        opened = pr.opened_at if pr else item.proposed_at
        pairs: list[tuple[str, Content | str]] = [
            ("state", Content.assemble(("pending idea", "bold $warning"), " · not merged yet")),
            ("proposal", f"pull request #{item.pr_number}" if item.pr_number else "—"),
            ("proposed", f"by {who} · {_date(opened, now)}"),
        ]
        if pr is not None:
            pairs.append(("PR title", clean(pr.title)))
        if item.tags:
            pairs.append(("tags", _logins(item.tags)))
        # A PR description is plain text: "<login>" in its trailer is not HTML.
        body = (pr.description if pr else "").replace("<", "\\<")
        return self._rows(pairs), body, [p for p in pulls if p.kind == "idea"]
