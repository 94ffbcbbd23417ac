"""The bundled sample meta repository: :func:`build_sample_sandbox` and the names the
demo, the tests and the benches read.

What the sample holds and how it is built lives in ``populate`` (below ``core``, since
``Sandbox.populate_sample`` calls it); this module sits above ``core`` because it makes
a ``Sandbox``. Splitting them is what keeps the package free of import cycles.
"""

from __future__ import annotations

from typing import Any

from rfctui.sandbox.core import Sandbox
from rfctui.sandbox.populate import (
    BASE_URL,
    FIELD_ORDER,
    LIST_FIELDS,
    PEOPLE,
    PROPOSALS,
    README,
    SLUG_RE,
    SampleError,
    SampleResult,
    compose,
    email_of,
    flow_list,
    front_value,
    identity,
    parse_flow_list,
    populate,
    proposal_text,
    render_entry,
    sample_dir,
    sample_files,
    sample_users,
    set_body,
    set_front_value,
    split_entry,
    trailer,
)

__all__ = [
    "BASE_URL", "FIELD_ORDER", "LIST_FIELDS", "PEOPLE", "PROPOSALS", "README", "SLUG_RE",
    "SampleError", "SampleResult", "build_sample_sandbox", "compose", "email_of",
    "flow_list", "front_value", "identity", "parse_flow_list", "populate", "proposal_text",
    "render_entry", "sample_dir", "sample_files", "sample_users", "set_body",
    "set_front_value", "split_entry", "trailer",
]


def build_sample_sandbox(*, backdate_days: int = 0, **kwargs: Any) -> Sandbox:
    """A :class:`Sandbox` holding the sample (convenience for the demo, tests, benches).

    Keyword arguments go to ``Sandbox``; ``users`` defaults to :func:`sample_users`. A
    ``data_dir`` that already holds pull requests is reused as it is, not populated twice.
    ``backdate_days`` spreads the history over that many past days (the demo: ages and
    stale markers show; `populate`); 0, the default, is what tests and benches see.
    """
    kwargs.setdefault("users", sample_users(kwargs.get("bot", "rfc-bot")))
    sb = Sandbox(**kwargs)
    if not sb.pulls:
        populate(sb, backdate_days=backdate_days)
    return sb
