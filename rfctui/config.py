"""Configuration: TOML file < environment < flags (SPEC §8).

Tokens are wrapped in `Secret` the moment they are read so that no repr, str, log line
or exception can show them; a config file that holds a token must not be readable by
others. Every error is a `ConfigError` whose message is one line saying what to do.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import platformdirs

from rfctui.secret import Secret  # re-exported: importers of rfctui.config keep working

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APP_NAME",
    "ENV_VARS",
    "FILE_KEYS",
    "QUEUE_TABLES",
    "TOKEN_COMMAND_TIMEOUT",
    "Config",
    "ConfigError",
    "Secret",
    "default_config_file",
    "load_config",
]

APP_NAME = "rfctui"
TOKEN_COMMAND_TIMEOUT = 10.0

# Keys accepted in the TOML file and in the `flags` dict (flags may also carry `demo`,
# `config` and `transport`).
FILE_KEYS: tuple[str, ...] = (
    "gitea_url", "org", "meta_repo", "bot_user", "bot_token", "user_token",
    "bot_token_command", "user_token_command", "quick_interval", "full_interval",
    "stale_days", "cache_dir", "data_dir", "state_dir", "theme", "stale", "queue", "views",
)
# The tables `rfctui.teamfile` reads (same format as the team's .rfctui.toml): file only.
QUEUE_TABLES: tuple[str, ...] = ("stale", "queue", "views")
ENV_VARS: dict[str, str] = {
    "RFCTUI_GITEA_URL": "gitea_url",
    "RFCTUI_ORG": "org",
    "RFCTUI_META_REPO": "meta_repo",
    "RFCTUI_BOT_USER": "bot_user",
    "RFCTUI_BOT_TOKEN": "bot_token",
    "RFCTUI_USER_TOKEN": "user_token",
    "RFCTUI_BOT_TOKEN_COMMAND": "bot_token_command",
    "RFCTUI_USER_TOKEN_COMMAND": "user_token_command",
    "RFCTUI_CACHE_DIR": "cache_dir",
    "RFCTUI_DATA_DIR": "data_dir",
    "RFCTUI_STATE_DIR": "state_dir",
}
_TOKEN_KEYS = ("bot_token", "user_token")
_FLAG_ONLY = ("demo", "config", "transport")
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_FILE_PART_RE = re.compile(r"[^A-Za-z0-9._-]+")


class ConfigError(Exception):
    """A configuration problem, one actionable line; never holds a token."""


@dataclass(frozen=True)
class Config:
    """The effective configuration (§8). `cache_file`/`actions_file` derive from it.

    `transport` is an httpx transport injected by tests and ``--demo`` (in-process
    sandbox); None means the real network.
    """

    gitea_url: str
    org: str = "rfcs"
    meta_repo: str = "meta"
    bot_user: str = "rfc-bot"
    bot_token: Secret | None = None
    user_token: Secret | None = None
    cache_dir: Path = field(default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME)))
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)))
    # What the UI remembers (theme, folded groups, filter, order: issue 14 §3) lives in
    # the platform's state directory: yours, kept by ``--resync``, never in the cache.
    state_dir: Path = field(
        default_factory=lambda: Path(platformdirs.user_state_dir(APP_NAME))
    )
    # The theme when none is remembered (a Textual theme name; the UI checks it).
    theme: str | None = None
    quick_interval: float = 30
    full_interval: float = 600
    stale_days: int = 60
    # Personal ``[stale]``, ``[queue]`` and ``[[views]]`` tables (issue 11), validated;
    # `rfctui.teamfile.resolve` lays them over the team file's.
    queue_settings: Mapping[str, Any] = field(default_factory=dict, compare=False)
    demo: bool = False
    config_file: Path | None = field(default=None, compare=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False, repr=False)

    @property
    def read_token(self) -> Secret | None:
        """The token for reads (sweeps, ``--sync``, ``--resync``, the UI's workers).

        The user's own token when one is set: the bot's token is for writes only (§6.1),
        so a read-only session never holds the credential that can write. Without a user
        token the bot's token is used for reads, because reading must still work then
        (§6.2: "without a verified identity, actions are disabled; reading still
        works"); with neither, reads are anonymous (a public repository).
        """
        return self.user_token or self.bot_token

    @property
    def read_auth_hint(self) -> str:
        """What to check when a read is refused (names the variable `read_token` used)."""
        if self.user_token:
            return "check RFCTUI_USER_TOKEN (your own token; it is used for reading)"
        if self.bot_token:
            return "check RFCTUI_BOT_TOKEN (used for reading because no RFCTUI_USER_TOKEN is set)"
        return "set RFCTUI_USER_TOKEN to your own Gitea token"

    @property
    def target_key(self) -> str:
        """``host_port-org-repo``, safe as a file name: one cache per target (§4.2)."""
        parts = urlsplit(self.gitea_url) if self.gitea_url else None
        host = (parts.hostname or "demo") if parts else "demo"
        try:
            port = parts.port if parts else None
        except ValueError:
            port = None
        if port is None:
            port = 443 if parts and parts.scheme == "https" else 80
        raw = f"{host}_{port}-{self.org}-{self.meta_repo}"
        return _FILE_PART_RE.sub("_", raw).strip(".") or "default"

    @property
    def cache_file(self) -> Path:
        """The SQLite cache for this (host, org, meta repo) in the user cache dir (§4.2)."""
        return self.cache_dir / f"{self.target_key}.sqlite"

    @property
    def actions_file(self) -> Path:
        """The actions log (§6.4) in the user *data* dir, one per target.

        Per target (not one shared file) so that a (slug, PR number) on one server can
        never be attributed from another server's log.
        """
        return self.data_dir / f"actions-{self.target_key}.sqlite"


def default_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """``$RFCTUI_CONFIG`` or ``<user config dir>/rfctui/config.toml``."""
    env = os.environ if environ is None else environ
    explicit = env.get("RFCTUI_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _read_file(path: Path, explicit: bool) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"config file {path} does not exist") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message is "<what> (at line N, column M)": no file content in it.
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    unknown = [k for k in data if k not in FILE_KEYS]
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown key {unknown[0]!r:.40}; known keys: "
            + ", ".join(FILE_KEYS)
        )
    _check_file_safety(path, data)
    return data


def _check_file_safety(path: Path, data: Mapping[str, Any]) -> None:
    """A file holding a token must be yours and private; one naming a token command
    must be yours and writable by you alone (whoever can edit it picks the program
    that runs and whose output becomes your token) (§8)."""
    has_token = any(data.get(k) for k in _TOKEN_KEYS)
    has_command = any(data.get(f"{k}_command") for k in _TOKEN_KEYS)
    if not (has_token or has_command) or os.name == "nt":
        return
    st = path.stat()
    quoted = shlex.quote(str(path))
    what = "a token" if has_token else "a token command"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise ConfigError(
            f"config file {path} holds {what} and is not owned by you: "
            f"run chown $(id -u) {quoted}"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        raise ConfigError(
            f"config file {path} holds {what} and is writable by others: "
            f"run chmod go-w {quoted}"
        )
    if has_token and mode & 0o077:
        raise ConfigError(
            f"config file {path} holds a token and is readable by others: "
            f"run chmod 600 {quoted}"
        )


def _run_token_command(key: str, command: str) -> Secret:
    """Run a password-manager command (no shell) and take the first line it prints.

    Errors name the program only: the rest of the command line and its output could
    hold the secret.
    """
    try:
        argv = shlex.split(command)
    except ValueError:
        raise ConfigError(f"{key}: cannot split the command line (unbalanced quotes?)") from None
    if not argv:
        raise ConfigError(f"{key} is empty")
    prog = Path(argv[0]).name
    try:
        done = subprocess.run(
            argv, capture_output=True, stdin=subprocess.DEVNULL,
            timeout=TOKEN_COMMAND_TIMEOUT, check=False,
        )
    except FileNotFoundError:
        raise ConfigError(f"{key}: program {prog!r} not found") from None
    except PermissionError:
        raise ConfigError(f"{key}: program {prog!r} is not executable") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{key}: {prog!r} did not finish within {TOKEN_COMMAND_TIMEOUT:g} s"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{key}: cannot run {prog!r}: {exc.strerror}") from None
    if done.returncode != 0:
        raise ConfigError(f"{key}: {prog!r} exited with status {done.returncode}")
    try:
        out = done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{key}: {prog!r} printed something that is not UTF-8") from None
    lines = out.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"{key}: {prog!r} printed nothing")
    return Secret(token)


def _layers(
    file_data: Mapping[str, Any], environ: Mapping[str, str], flags: Mapping[str, Any]
) -> list[dict[str, Any]]:
    env = {key: environ[name] for name, key in ENV_VARS.items() if environ.get(name)}
    fl = {k: v for k, v in flags.items() if v is not None}
    unknown = [k for k in fl if k not in FILE_KEYS and k not in _FLAG_ONLY]
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r:.40}")
    return [dict(file_data), env, fl]


def _pick(layers: list[dict[str, Any]], key: str) -> Any:
    for layer in reversed(layers):
        if key in layer:
            return layer[key]
    return None


def _pick_token(layers: list[dict[str, Any]], key: str) -> Secret | None:
    """The highest layer that sets the token or its command wins; a token beats a
    command in the same layer."""
    for layer in reversed(layers):
        value = layer.get(key)
        if value is not None:
            if isinstance(value, Secret):
                return value if value else None
            if not isinstance(value, str):
                raise ConfigError(f"{key} must be a string")
            return Secret(value.strip()) if value.strip() else None
        command = layer.get(f"{key}_command")
        if command is not None:
            if not isinstance(command, str):
                raise ConfigError(f"{key}_command must be a string")
            return _run_token_command(f"{key}_command", command)
    return None


def _str(key: str, value: Any, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise ConfigError(f"{key} must be a one-line, non-empty string")
    return value.strip()


def _optional_str(key: str, value: Any) -> str | None:
    return None if value is None else _str(key, value, "")


def _name(key: str, value: Any, default: str) -> str:
    """An org, repo or login: Gitea's charset, so it is safe inside an API path."""
    text = _str(key, value, default)
    if not _NAME_RE.fullmatch(text) or not text.strip("."):
        raise ConfigError(f"{key} {text!r:.60} is not a Gitea name (letters, digits, . _ -)")
    return text


def _number(key: str, value: Any, default: float, *, integer: bool = False) -> Any:
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = float(value) if not integer else int(value)
        except ValueError:
            raise ConfigError(f"{key} must be a number, not {value!r:.30}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key} must be a positive number")
    if integer and value != int(value):
        raise ConfigError(f"{key} must be a whole number")
    return int(value) if integer else value


def _dir(key: str, value: Any, default: Path) -> Path:
    if value is None:
        return default
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise ConfigError(f"{key} must be a directory path")
    return Path(value).expanduser()


def _url(value: Any, demo: bool, config_file: Path) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if demo:
            return ""
        raise ConfigError(
            "no Gitea server configured: set RFCTUI_GITEA_URL (or gitea_url in "
            f"{config_file}), or run `rfctui --demo` to try it with a local sandbox"
        )
    if not isinstance(value, str):
        raise ConfigError("gitea_url must be a string")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"gitea_url must look like https://gitea.example.com, not {value!r:.60}"
        )
    if parts.username or parts.password:
        raise ConfigError(
            "gitea_url must not contain credentials: put tokens in RFCTUI_USER_TOKEN "
            "and RFCTUI_BOT_TOKEN"
        )
    if parts.query or parts.fragment:
        raise ConfigError("gitea_url must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigError("gitea_url has an invalid port") from None
    return url.removesuffix("/api/v1")


def _queue_settings(
    path: Path, file_data: Mapping[str, Any], stale_days: Any
) -> dict[str, Any]:
    """The personal ``[stale]``/``[queue]``/``[[views]]`` tables, checked now so that a
    mistake is a `ConfigError` naming the key (a team file's is only a notice).

    ``stale_days`` (the older single threshold, still accepted) is read as
    ``[stale] idea`` and ``parked`` unless ``[stale]`` names them itself.
    """
    from rfctui.teamfile import settings_from_mapping

    tables: dict[str, Any] = {k: file_data[k] for k in QUEUE_TABLES if k in file_data}
    if stale_days is not None:
        days = _number("stale_days", stale_days, 60, integer=True)
        stale = tables.get("stale")
        merged = {"idea": f"{days}d", "parked": f"{days}d"}
        if isinstance(stale, Mapping):
            merged.update(stale)
            tables["stale"] = merged
        elif stale is None:
            tables["stale"] = merged
    settings = settings_from_mapping(tables, source=f"config file {path}", only_ours=True)
    if settings.error is not None:
        raise ConfigError(settings.error.removesuffix("; ignored, using the defaults"))
    return tables


def load_config(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Build the `Config`: TOML file < environment < `flags` (§8).

    The file is ``flags["config"]``, else ``$RFCTUI_CONFIG``, else
    ``<user config dir>/rfctui/config.toml`` (may be absent). Keys are `FILE_KEYS`;
    environment names are `ENV_VARS`. Token commands run here (no shell, 10 s timeout).
    """
    env = os.environ if environ is None else environ
    flags = dict(flags or {})
    if flags.get("config"):
        path, explicit = Path(flags["config"]).expanduser(), True
    else:
        path, explicit = default_config_file(env), bool(env.get("RFCTUI_CONFIG"))
    file_data = _read_file(path, explicit)
    layers = _layers(file_data, env, flags)
    demo = bool(flags.get("demo", False))
    defaults = Config(gitea_url="")
    return Config(
        gitea_url=_url(_pick(layers, "gitea_url"), demo, path),
        org=_name("org", _pick(layers, "org"), defaults.org),
        meta_repo=_name("meta_repo", _pick(layers, "meta_repo"), defaults.meta_repo),
        bot_user=_name("bot_user", _pick(layers, "bot_user"), defaults.bot_user),
        bot_token=_pick_token(layers, "bot_token"),
        user_token=_pick_token(layers, "user_token"),
        cache_dir=_dir("cache_dir", _pick(layers, "cache_dir"), defaults.cache_dir),
        data_dir=_dir("data_dir", _pick(layers, "data_dir"), defaults.data_dir),
        state_dir=_dir("state_dir", _pick(layers, "state_dir"), defaults.state_dir),
        theme=_optional_str("theme", _pick(layers, "theme")),
        quick_interval=_number("quick_interval", _pick(layers, "quick_interval"), 30),
        full_interval=_number("full_interval", _pick(layers, "full_interval"), 600),
        stale_days=_number("stale_days", _pick(layers, "stale_days"), 60, integer=True),
        queue_settings=_queue_settings(path, file_data, _pick(layers, "stale_days")),
        demo=demo,
        config_file=path if path.exists() else None,
        transport=flags.get("transport"),
    )
