"""The UI against a target that never answered, with no cache yet (issue 14 §3): it works
offline (an empty list with a line saying why), and leaves no empty cache file behind
once it closes, as the command line closes it (`rfctui.cli._ui`)."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest
from ui_fixtures import config_for, fixed_clock, quiet_environment, settle

from rfctui.app import RfcApp
from rfctui.widgets.rfc_list import RfcList
from rfctui.widgets.status import StatusLine


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment(monkeypatch)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_no_cache_and_no_gitea_works_offline_and_leaves_nothing(tmp_path: Path) -> None:
    cfg = replace(config_for(tmp_path / "cache"),
                  gitea_url=f"http://127.0.0.1:{_closed_port()}")
    app = RfcApp(cfg, clock=fixed_clock, sync=True)  # real HTTP to a closed port
    app.animation_level = "none"
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        assert status.offline and status.error and "connection refused" in status.error
        rfc_list = app.screen.query_one(RfcList)
        assert not rfc_list.rows or all(r.item is None for r in rfc_list.rows)
        assert rfc_list.empty_message.startswith("Nothing cached yet")
        assert cfg.cache_file.exists()  # while it runs, the (empty) cache is open
    app.session.close()  # what `rfctui` does when the UI ends
    left = [p.name for p in (tmp_path / "cache").rglob("*.sqlite*")]
    assert left == []


async def test_a_wrong_url_path_is_explained_in_the_status_line(tmp_path: Path) -> None:
    """Issue 14 §2 in the UI: the status line names the URL that answered 404 and the
    root where a Gitea answers, not org/repo (the sandbox over real HTTP, ``/foo``)."""
    from ui_fixtures import make_sandbox

    sb = make_sandbox()
    with sb.serve(port=0) as base:
        cfg = replace(config_for(tmp_path / "cache"), gitea_url=f"{base}/foo")
        app = RfcApp(cfg, clock=fixed_clock, sync=True)
        app.animation_level = "none"
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            error = app.screen.query_one(StatusLine).error or ""
        app.session.close()
    assert f"{base}/foo/api/v1/repos/rfcs/meta/" in error and "answered 404" in error
    assert f"a Gitea answers at {base}: set RFCTUI_GITEA_URL" in error
    assert "RFCTUI_ORG" not in error
