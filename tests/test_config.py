"""SPEC §8 / issue 3: configuration layering, token safety, token commands."""

from __future__ import annotations

import copy
import os
import pickle
import sys
from pathlib import Path

import pytest

from rfctui.config import Config, ConfigError, Secret, load_config

TOKEN = "s3cr3t-token-value-123"
PY = sys.executable


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment that points at an empty config file under tmp_path."""
    write(tmp_path / "config.toml", "")
    return {"RFCTUI_CONFIG": str(tmp_path / "config.toml")}


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def test_secret_never_shows() -> None:
    s = Secret(TOKEN)
    assert repr(s) == "Secret('***')" and str(s) == "***" and f"{s}" == "***"
    assert f"{s!r} {s:>30}" == "Secret('***') ***"
    assert s.reveal() == TOKEN
    assert s == Secret(TOKEN) and s != Secret("other") and s != TOKEN
    assert hash(s) == hash(Secret(TOKEN))
    assert copy.deepcopy(s) is s
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_missing_url_says_how_to_fix(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({}, env)
    msg = str(info.value)
    assert "RFCTUI_GITEA_URL" in msg and "rfctui --demo" in msg and "\n" not in msg


def test_demo_needs_no_url(env: dict[str, str]) -> None:
    cfg = load_config({"demo": True}, env)
    assert cfg.demo and cfg.gitea_url == ""


def test_precedence_file_env_flags(cfg_file: Path, env: dict[str, str], tmp_path: Path) -> None:
    write(
        cfg_file,
        'gitea_url = "https://file.example"\norg = "fileorg"\nmeta_repo = "filemeta"\n'
        'bot_user = "filebot"\nquick_interval = 5\nfull_interval = 120\nstale_days = 30\n'
        f'cache_dir = "{tmp_path / "fc"}"\n',
    )
    cfg = load_config({}, env)
    assert (cfg.gitea_url, cfg.org, cfg.meta_repo, cfg.bot_user) == (
        "https://file.example", "fileorg", "filemeta", "filebot"
    )
    assert (cfg.quick_interval, cfg.full_interval, cfg.stale_days) == (5, 120, 30)
    assert cfg.cache_dir == tmp_path / "fc"
    assert cfg.config_file == cfg_file

    env |= {"RFCTUI_GITEA_URL": "http://env.example:3000/", "RFCTUI_ORG": "envorg",
            "RFCTUI_CACHE_DIR": str(tmp_path / "ec"), "RFCTUI_DATA_DIR": str(tmp_path / "ed")}
    cfg = load_config({}, env)
    assert (cfg.gitea_url, cfg.org, cfg.meta_repo) == (
        "http://env.example:3000", "envorg", "filemeta"
    )
    assert cfg.cache_dir == tmp_path / "ec" and cfg.data_dir == tmp_path / "ed"

    cfg = load_config({"org": "flagorg", "gitea_url": "https://flag.example/api/v1",
                       "stale_days": 7, "meta_repo": None}, env)
    assert (cfg.gitea_url, cfg.org, cfg.meta_repo, cfg.stale_days) == (
        "https://flag.example", "flagorg", "filemeta", 7
    )


def test_cache_and_actions_files(env: dict[str, str], tmp_path: Path) -> None:
    env |= {"RFCTUI_GITEA_URL": "https://Gitea.Example.com", "RFCTUI_CACHE_DIR": str(tmp_path),
            "RFCTUI_DATA_DIR": str(tmp_path / "data")}
    cfg = load_config({}, env)
    assert cfg.cache_file == tmp_path / "gitea.example.com_443-rfcs-meta.sqlite"
    assert cfg.actions_file.parent == tmp_path / "data"
    assert cfg.actions_file.suffix == ".sqlite"
    other = load_config({"gitea_url": "http://127.0.0.1:3000", "org": "o", "meta_repo": "r"}, env)
    assert other.cache_file.name == "127.0.0.1_3000-o-r.sqlite"
    assert other.cache_file != cfg.cache_file and other.actions_file != cfg.actions_file


def test_default_dirs_come_from_platformdirs(env: dict[str, str]) -> None:
    cfg = load_config({"gitea_url": "https://g.example"}, env)
    assert cfg.cache_dir.name == "rfctui" and cfg.data_dir.name == "rfctui"


def test_tokens_from_env_and_flags(env: dict[str, str]) -> None:
    env |= {"RFCTUI_GITEA_URL": "https://g.example", "RFCTUI_BOT_TOKEN": TOKEN,
            "RFCTUI_USER_TOKEN": "user-" + TOKEN}
    cfg = load_config({}, env)
    assert isinstance(cfg.bot_token, Secret) and cfg.bot_token.reveal() == TOKEN
    assert cfg.user_token is not None and cfg.user_token.reveal() == "user-" + TOKEN
    assert TOKEN not in repr(cfg) and TOKEN not in str(cfg)
    cfg = load_config({"user_token": "flag-token"}, env)
    assert cfg.user_token is not None and cfg.user_token.reveal() == "flag-token"


def test_world_readable_file_with_token_refused(cfg_file: Path, env: dict[str, str]) -> None:
    if os.name == "nt":
        pytest.skip("POSIX permissions")
    write(cfg_file, f'gitea_url = "https://g.example"\nbot_token = "{TOKEN}"\n', 0o644)
    with pytest.raises(ConfigError) as info:
        load_config({}, env)
    msg = str(info.value)
    assert msg == (
        f"config file {cfg_file} holds a token and is readable by others: "
        f"run chmod 600 {cfg_file}"
    )
    assert TOKEN not in msg
    cfg_file.chmod(0o640)  # group-readable is refused too
    with pytest.raises(ConfigError):
        load_config({}, env)
    cfg_file.chmod(0o600)
    assert load_config({}, env).bot_token == Secret(TOKEN)


def test_world_readable_file_without_token_is_fine(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, 'gitea_url = "https://g.example"\nuser_token_command = "pass x"\n', 0o644)
    env["PATH"] = ""
    with pytest.raises(ConfigError) as info:  # the command fails, not the permissions
        load_config({}, env)
    assert "not found" in str(info.value)


def test_invalid_toml_one_line_with_line_number(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, f'gitea_url = "https://g.example"\nbot_token = "{TOKEN}\n')
    with pytest.raises(ConfigError) as info:
        load_config({}, env)
    msg = str(info.value)
    assert str(cfg_file) in msg and "line 2" in msg and "\n" not in msg
    assert TOKEN not in msg


def test_unknown_key_and_bad_values(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, 'gitea_url = "https://g.example"\ngitea_token = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'gitea_token'"):
        load_config({}, env)
    write(cfg_file, 'gitea_url = "https://g.example"\nquick_interval = -1\n')
    with pytest.raises(ConfigError, match="quick_interval"):
        load_config({}, env)
    write(cfg_file, 'gitea_url = "https://g.example"\norg = "../evil"\n')
    with pytest.raises(ConfigError, match="org"):
        load_config({}, env)
    write(cfg_file, 'gitea_url = "https://g.example"\nmeta_repo = ".."\n')
    with pytest.raises(ConfigError, match="meta_repo"):
        load_config({}, env)


def test_explicit_missing_file(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config({"config": str(tmp_path / "nope.toml"), "gitea_url": "https://g.example"}, env)


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "gitea.example.com", "https://", f"https://ada:{TOKEN}@g.example",
     f"https://g.example/?token={TOKEN}", "https://g.example:99999"],
)
def test_bad_urls(env: dict[str, str], url: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"gitea_url": url}, env)
    assert TOKEN not in str(info.value)


# ---------------------------------------------------------------- token commands


def cmd(code: str) -> str:
    return f"{PY} -c {code!r}"


def test_token_command(env: dict[str, str]) -> None:
    env["RFCTUI_GITEA_URL"] = "https://g.example"
    cfg = load_config(
        {"bot_token_command": cmd(f"print('  {TOKEN}  '); print('url: x')")}, env
    )
    assert cfg.bot_token == Secret(TOKEN)  # first line, stripped


def test_token_command_from_file(cfg_file: Path, env: dict[str, str]) -> None:
    write(
        cfg_file,
        'gitea_url = "https://g.example"\n'
        "user_token_command = '''" + cmd(f"print({TOKEN!r})") + "'''\n",
        0o644,  # a command is not a token: no permission check
    )
    assert load_config({}, env).user_token == Secret(TOKEN)


def test_higher_layer_token_beats_lower_command(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, 'gitea_url = "https://g.example"\nuser_token_command = "/nonexistent"\n')
    env["RFCTUI_USER_TOKEN"] = TOKEN  # env wins, the command is never run
    assert load_config({}, env).user_token == Secret(TOKEN)


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        (f"import sys; print({TOKEN!r}); sys.stderr.write({TOKEN!r}); sys.exit(3)",
         "exited with status 3"),
        ("pass", "printed nothing"),
        ("import time; time.sleep(30)", "did not finish within 10 s"),
    ],
)
def test_token_command_failures_hide_output(
    env: dict[str, str], code: str, needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rfctui.config.TOKEN_COMMAND_TIMEOUT", 10.0)
    if "sleep" in code:  # keep the suite fast: the same code path with a short timeout
        monkeypatch.setattr("rfctui.config.TOKEN_COMMAND_TIMEOUT", 0.5)
        needle = "did not finish within 0.5 s"
    env["RFCTUI_GITEA_URL"] = "https://g.example"
    with pytest.raises(ConfigError) as info:
        load_config({"user_token_command": cmd(code)}, env)
    msg = str(info.value)
    assert needle in msg and "\n" not in msg
    assert TOKEN not in msg and TOKEN not in repr(info.value)
    err = info.value
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


def test_token_command_not_found_names_program_only(env: dict[str, str]) -> None:
    env["RFCTUI_GITEA_URL"] = "https://g.example"
    with pytest.raises(ConfigError) as info:
        load_config({"bot_token_command": f"/no/such/pass-helper --secret {TOKEN}"}, env)
    assert "'pass-helper' not found" in str(info.value)
    assert TOKEN not in str(info.value)


def test_token_command_no_shell(env: dict[str, str], tmp_path: Path) -> None:
    env["RFCTUI_GITEA_URL"] = "https://g.example"
    marker = tmp_path / "pwned"
    cfg = load_config({"bot_token_command": f"echo tok; touch {marker}"}, env)
    assert not marker.exists()  # ";" is an argument to echo, not a shell operator
    assert cfg.bot_token is not None and cfg.bot_token.reveal().startswith("tok;")


def test_config_repr_has_no_secret(env: dict[str, str]) -> None:
    cfg = Config(gitea_url="https://g.example", bot_token=Secret(TOKEN), user_token=Secret(TOKEN))
    assert TOKEN not in repr(cfg) and "***" in repr(cfg)


def test_reads_use_the_users_token_and_fall_back_to_the_bots(env: dict[str, str]) -> None:
    base = {"gitea_url": "https://g.example"}
    both = load_config(base | {"bot_token": "b", "user_token": "u"}, env)
    assert both.read_token == Secret("u") and "RFCTUI_USER_TOKEN" in both.read_auth_hint
    bot_only = load_config(base | {"bot_token": "b"}, env)
    assert bot_only.read_token == Secret("b") and "RFCTUI_BOT_TOKEN" in bot_only.read_auth_hint
    assert load_config(base, env).read_token is None


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_writable_by_others_or_foreign_file_with_token_command_refused(
    cfg_file: Path, env: dict[str, str]
) -> None:
    """Whoever can edit the file chooses the program whose output becomes the token."""
    write(cfg_file, f'user_token_command = "{PY} -c \\"print(1)\\""\n', 0o664)
    with pytest.raises(ConfigError) as info:
        load_config({"gitea_url": "https://g.example"}, env)
    assert str(info.value) == (
        f"config file {cfg_file} holds a token command and is writable by others: "
        f"run chmod go-w {cfg_file}"
    )
    cfg_file.chmod(0o644)
    assert load_config({"gitea_url": "https://g.example"}, env).user_token == Secret("1")
    if os.getuid() != 0:
        return  # only root can hand the file to someone else
    os.chown(cfg_file, 12345, -1)
    with pytest.raises(ConfigError, match="is not owned by you: run chown"):
        load_config({"gitea_url": "https://g.example"}, env)
