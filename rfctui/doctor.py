"""``rfctui doctor``: what is wrong with this set-up, one line per check (issue 14 §2).

Each `Check` is ✓ or ✗; a ✗ carries the setting to change. The checks run in the order
a new user meets the problems — the config file, the server (is it there, is it a
Gitea, is the URL's path right), the org and the meta repository, whose your token is,
whose the bot's token is and whether it may write — then the local files (cache,
actions log, drafts). A check that cannot run because an earlier one failed is left
out rather than reported as a second, misleading ✗.

Never prints a token: the client scrubs them from its errors (`rfctui.gitea`), and the
lines here only name the settings (``RFCTUI_BOT_TOKEN``), never their values. Nothing
here writes: the cache and the actions log are opened only if they exist, read-only.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rfctui.logins import same_login
from rfctui.text import one_line

if TYPE_CHECKING:
    from rfctui.config import Config
    from rfctui.gitea import GiteaClient

__all__ = ["Check", "Report", "bot_problem", "config_failure", "diagnose", "explain_not_found",
           "root_of"]

_TIMEOUT = 5.0  # a doctor answers quickly; a server this slow is itself the finding


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: ``name`` (stable, for ``--json``), ``ok``, what was found
    (``text``) and, for a ✗, what to change (``fix``)."""

    name: str
    ok: bool
    text: str
    fix: str = ""


@dataclass(slots=True)
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"schema": 1, "ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def root_of(url: str) -> str:
    """``https://host/foo`` → ``https://host``: where a Gitea would answer."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def config_failure(error: str, path: Path | None) -> Report:
    """The report when the configuration itself cannot be read: that one ✗ (the loader's
    message already names what to change)."""
    where = f" ({path})" if path else ""
    return Report([Check("config", False, f"the configuration cannot be used{where}",
                         one_line(error, 300))])


def _config_check(config: Config) -> Check:
    from rfctui.config import default_config_file

    path = config.config_file
    if path is None:
        return Check("config", True, f"no config file at {default_config_file()}; "
                     "settings come from the environment and flags")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        return Check("config", False, f"config file {path}: {exc.strerror}",
                     f"check the file's permissions: chmod 600 {path}")
    return Check("config", True, f"config file {path} (mode {mode:04o})")


def _client(config: Config, token: Any, url: str | None = None) -> GiteaClient:
    from rfctui.gitea import GiteaClient

    return GiteaClient(url or config.gitea_url, token, transport=config.transport,
                       timeout=_TIMEOUT, retries=0)


async def _server(config: Config) -> Check:
    """Reachable, really a Gitea, and at the configured path (not a sub-path of it)."""
    from rfctui.gitea import GiteaError, GiteaNotFound

    url = str(config.gitea_url).rstrip("/")
    async with _client(config, None) as client:
        try:
            version = await client.version()
        except GiteaNotFound:
            answered = f"{url}/api/v1/version answered 404"
            root = root_of(url)
            if root != url and await _is_gitea(config, root):
                return Check("server", False, f"{answered}; a Gitea answers at {root}",
                             f"set RFCTUI_GITEA_URL (or gitea_url) to {root}")
            return Check("server", False, f"{answered}: no Gitea API there",
                         "check RFCTUI_GITEA_URL (or gitea_url): it is the Gitea's address, "
                         "e.g. https://gitea.example.com")
        except GiteaError as exc:
            return Check("server", False, f"cannot reach {url}: {one_line(str(exc), 200)}",
                         "check RFCTUI_GITEA_URL (or gitea_url) and that the server is up")
        except ValueError:  # the answer was not JSON: not a Gitea
            return Check("server", False, f"{url} answered, but not as a Gitea",
                         "check RFCTUI_GITEA_URL (or gitea_url)")
    if not version:
        return Check("server", False, f"{url} answered /api/v1/version without a version",
                     "check RFCTUI_GITEA_URL (or gitea_url): it does not look like a Gitea")
    return Check("server", True, f"Gitea {one_line(version, 40)} at {url}")


async def _is_gitea(config: Config, root: str) -> bool:
    from rfctui.gitea import GiteaError

    async with _client(config, None, root) as client:
        try:
            return bool(await client.version())
        except (GiteaError, ValueError):
            return False


async def explain_not_found(config: Config, url: str, *, transport: Any = None) -> str | None:
    """A sweep's repository answered 404 at ``url``: one line when the cause is the
    Gitea URL rather than the org/repo (issue 14 §2) — no Gitea API at the configured
    URL, and whether one answers at the server root — else None (the URL is a Gitea:
    the org/repo wording stands). ``transport`` overrides the configuration's."""
    if transport is not None:
        config = replace(config, transport=transport)
    url = url.split("?", 1)[0]  # the path is the finding; paging is noise
    base = str(config.gitea_url).rstrip("/")
    if await _is_gitea(config, base):
        return None
    root = root_of(base)
    if root != base and await _is_gitea(config, root):
        return (f"{url} answered 404; a Gitea answers at {root}: "
                f"set RFCTUI_GITEA_URL (or gitea_url) to {root}")
    return (f"{url} answered 404 and no Gitea answers at {base}/api/v1/version: "
            "check RFCTUI_GITEA_URL (or gitea_url): it is the Gitea's address, "
            "e.g. https://gitea.example.com")


async def _whoami(config: Config, which: str) -> tuple[Check, str | None]:
    """``GET /user`` with the user's (``which="user"``) or the bot's token."""
    from rfctui.gitea import GiteaAuthError, GiteaError

    token = config.user_token if which == "user" else config.bot_token
    var = "RFCTUI_USER_TOKEN" if which == "user" else "RFCTUI_BOT_TOKEN"
    name = "you" if which == "user" else "bot"
    if token is None:
        why = ("actions are disabled (reading still works)" if which == "user"
               else "actions cannot be sent")
        return Check(name, False, f"no {var} set: {why}",
                     f"set {var} (or {which}_token_command in the config file)"), None
    async with _client(config, token) as client:
        try:
            me = await client.current_user()
        except GiteaAuthError:
            return Check(name, False, f"{var} is refused by Gitea (401/403)",
                         f"create a new token in Gitea and set {var}"), None
        except GiteaError as exc:
            return Check(name, False, f"who {var} belongs to is unknown: "
                         f"{one_line(str(exc), 200)}", "try again when Gitea answers"), None
    login = str(me.get("login") or "")
    if which == "bot" and not same_login(login, config.bot_user):
        return Check(name, False, f"{var} belongs to {one_line(login, 40)!r}, "
                     f"not the bot {config.bot_user!r}",
                     f"set {var} to the bot's token, or RFCTUI_BOT_USER (bot_user) to "
                     f"{one_line(login, 40)}"), login
    full = one_line(str(me.get("full_name") or ""), 60)
    shown = f"{login} ({full})" if full else login
    text = f"your token is {shown}" if which == "user" else f"the bot token is {shown}"
    return Check(name, True, text), login


async def _repo(config: Config) -> Check:
    """The meta repository, read as rfctui reads it (the read token); a 404 tells a
    missing org from a missing repository."""
    from rfctui.gitea import GiteaAuthError, GiteaError, GiteaNotFound

    full = f"{config.org}/{config.meta_repo}"
    async with _client(config, config.read_token) as client:
        try:
            repo = await client.get_repo(config.org, config.meta_repo)
        except GiteaNotFound:
            try:
                await client.get_user(config.org)
            except GiteaNotFound:
                return Check("repo", False, f"there is no org {config.org!r} on this Gitea",
                             "check RFCTUI_ORG (or org)")
            except GiteaError:
                pass
            return Check("repo", False, f"{full} is not found or not visible to "
                         "the reading token", "check RFCTUI_META_REPO (or meta_repo), and "
                         f"that your account may read {full}")
        except GiteaAuthError:
            return Check("repo", False, f"{full} refused the reading token",
                         config.read_auth_hint)
        except GiteaError as exc:
            return Check("repo", False, f"{full}: {one_line(str(exc), 200)}",
                         "try again when Gitea answers")
    branch = one_line(str(repo.get("default_branch") or "main"), 60)
    return Check("repo", True, f"{full} is readable (default branch {branch})")


async def _bot_write(config: Config) -> Check:
    from rfctui.gitea import GiteaError

    full = f"{config.org}/{config.meta_repo}"
    async with _client(config, config.bot_token) as client:
        try:
            repo = await client.get_repo(config.org, config.meta_repo)
        except GiteaError as exc:
            return Check("bot-write", False, f"the bot cannot read {full}: "
                         f"{one_line(str(exc), 200)}",
                         f"give {config.bot_user} write access to {full}")
    perms = repo.get("permissions") or {}
    if not (isinstance(perms, dict) and (perms.get("push") or perms.get("admin"))):
        return Check("bot-write", False, f"the bot may read {full} but not write to it",
                     f"give {config.bot_user} write access to {full}")
    return Check("bot-write", True, f"the bot may write to {full}")


async def bot_problem(config: Config) -> str | None:
    """Why actions would fail, in one line, or None: the bot part of the doctor, which
    the UI runs once at start (not on every sweep) to say so in the status line."""
    if config.bot_token is None:
        return None  # the UI already says actions need the bot's token
    bot, login = await _whoami(config, "bot")
    if not bot.ok:
        return f"{bot.text}; {bot.fix}" if login or "refused" in bot.text else None
    write = await _bot_write(config)
    return None if write.ok else f"{write.text}; {write.fix}"


def _age(then: datetime, now: datetime) -> str:
    secs = max(0, int((now - then).total_seconds()))
    if secs < 120:
        return f"{secs}s"
    if secs < 7200:
        return f"{secs // 60}m"
    if secs < 172800:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _cache(config: Config, now: datetime) -> Check:
    from rfctui.db import CacheError, open_cache

    path = config.cache_file
    if not path.exists():
        return Check("cache", False, f"no cache yet at {path}",
                     "run rfctui --sync (or just rfctui: the UI syncs at start)")
    size = _size(path.stat().st_size)
    try:
        with open_cache(path) as cache:
            status, notice = cache.sync_status(), cache.notice
    except CacheError as exc:
        return Check("cache", False, f"cache {path} ({size}): {one_line(str(exc), 200)}",
                     "run rfctui --resync to rebuild it from Gitea")
    if notice:  # it was damaged: moved aside (kept), an empty one started
        return Check("cache", False, f"cache {path}: {one_line(notice, 200)}",
                     "run rfctui --resync to rebuild it from Gitea")
    if status.synced_at is None:
        return Check("cache", False, f"cache {path} ({size}) was never synced",
                     "run rfctui --sync")
    text = (f"cache {path} ({size}, {status.rfc_count} RFCs, last synced "
            f"{_age(status.synced_at, now)} ago)")
    if status.last_ok is False and status.last_error:
        return Check("cache", False, f"{text}; the last sweep failed: "
                     f"{one_line(status.last_error, 160)}", "run rfctui --sync to see why")
    return Check("cache", True, text)


def _actions(config: Config) -> Check:
    from rfctui.db import CacheError, open_actions

    path = config.actions_file
    if not path.exists():
        return Check("actions", True, "no actions sent yet")
    try:
        with open_actions(path, repair=False) as log:
            pending, failed = len(log.pending()), len(log.failed())
    except CacheError as exc:
        return Check("actions", False, f"actions log {path}: {one_line(str(exc), 200)}",
                     "see the README, section on the actions log")
    if pending or failed:
        return Check("actions", False, f"{pending} pending and {failed} failed actions "
                     "in the log", "rfctui actions lists them; --retry ID or --discard ID")
    return Check("actions", True, "no pending or failed actions")


def _drafts(config: Config) -> Check:
    from rfctui.drafts import Drafts

    drafts = Drafts.for_config(config).all()
    if not drafts:
        return Check("drafts", True, "no unsent drafts")
    return Check("drafts", True, f"{len(drafts)} unsent draft(s): reopen the form in the "
                 "UI to continue or discard")


async def diagnose(config: Config, *, clock: Callable[[], datetime] | None = None) -> Report:
    """Every check for ``config`` (module docstring); the Gitea checks are left out when
    the server fails, the bot's write access when the repository cannot be read."""
    now = (clock or (lambda: datetime.now(UTC)))()
    checks = [_config_check(config)]
    server = await _server(config)
    checks.append(server)
    if server.ok:
        you, _ = await _whoami(config, "user")
        checks.append(you)
        repo = await _repo(config)
        checks.append(repo)
        bot, login = await _whoami(config, "bot")
        checks.append(bot)
        if bot.ok and repo.ok:  # a missing repository is one ✗, not two
            checks.append(await _bot_write(config))
    checks.append(_cache(config, now))
    checks.append(_actions(config))
    checks.append(_drafts(config))
    return Report(checks)
