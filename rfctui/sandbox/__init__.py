"""A Gitea-compatible stand-in server (issue 2).

One implementation (``api.handle``) is reachable two ways: over real HTTP on loopback
(``Sandbox.serve``) and in-process as an httpx transport (``Sandbox.transport``). State
is a real git object model (``git.GitRepo``), users with tokens, and pull requests.

This ``__init__`` only re-exports; the submodules import each other, never the package,
in this order (lower never imports higher): ``faults``, ``git``, ``body``, ``state`` <
``api`` < ``transport``, ``server``, ``populate`` (the sample's content and how it is
built) < ``core`` (``Sandbox``) < ``sample`` (``build_sample_sandbox``) < ``__main__``.
"""

from __future__ import annotations

from rfctui.sandbox.core import Sandbox, SeedError
from rfctui.sandbox.faults import Faults
from rfctui.sandbox.state import PullState, SandboxUser, default_users

__all__ = ["Faults", "PullState", "Sandbox", "SandboxUser", "SeedError", "default_users"]
