"""`Secret`: a token that never shows itself.

A leaf module (stdlib only) so the HTTP client can take a `Secret` without importing
the configuration, and the configuration can make one without importing the client.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

__all__ = ["Secret"]


class Secret:
    """A token. ``repr``/``str`` are ``***``; `reveal` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        """The token itself: call it only where it is sent (an Authorization header)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:  # pickling a token is a leak waiting to happen
        raise TypeError("a Secret cannot be pickled")
