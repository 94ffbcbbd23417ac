"""Deterministic fault injection for tests and benchmarks.

Why a seed: a flaky-by-design test must still fail the same way on every run, so the
error draw comes from ``random.Random(seed)`` and nothing else.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

ERROR_STATUSES = (500, 502, 503)


@dataclass
class Faults:
    """Mutable at run time: ``sb.faults.latency_ms = 20`` takes effect on the next request.

    - ``latency_ms``: added before every answer (HTTP: handler thread sleeps; transport:
      ``asyncio.sleep`` / ``time.sleep``).
    - ``error_rate``: probability in [0, 1] that a request gets a 500/502/503 instead.
    - ``down``: the HTTP server drops connections; the transport raises ``ConnectError``.
    """

    latency_ms: float = 0
    error_rate: float = 0.0
    down: bool = False
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False)
    _rng_seed: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._rng_seed = self.seed

    def reseed(self, seed: int | None = None) -> None:
        """Restart the error sequence (optionally with a new seed)."""
        with self._lock:
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)
            self._rng_seed = self.seed

    def draw_error(self) -> int | None:
        """The status to inject for this request, or None. Consumes one draw per call."""
        with self._lock:
            if self._rng_seed != self.seed:  # seed changed by assignment
                self._rng = random.Random(self.seed)
                self._rng_seed = self.seed
            if self.error_rate <= 0:
                return None
            roll = self._rng.random()
            pick = self._rng.choice(ERROR_STATUSES)
            return pick if roll < self.error_rate else None

    @property
    def delay_seconds(self) -> float:
        return max(0.0, float(self.latency_ms)) / 1000.0
