"""Retry timing: exponential backoff with full jitter and a cap."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (0-based).

    Full jitter (a uniform draw in [0, min(cap, base * 2**attempt)]) spreads a burst of failures
    over the whole window, so workers that failed together do not retry together.
    """
    ceiling = min(cap, base * (2 ** min(attempt, 32)))
    return (rng or random).uniform(0, ceiling)
