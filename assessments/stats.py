"""Small statistics the measures need: the Wilson score interval of a proportion."""

from __future__ import annotations

import math
from typing import NamedTuple

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution


class Proportion(NamedTuple):
    successes: int
    trials: int
    rate: float
    low: float
    high: float


def wilson(successes: int, trials: int, z: float = Z_95) -> Proportion:
    """The proportion with its Wilson score interval (95 % by default).

    Unlike the normal approximation it stays within [0, 1] and is not empty at 0 or n successes,
    which matters for the small groups a survey of one institution gives.
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"wilson({successes}, {trials})")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return Proportion(successes, trials, p, max(0.0, centre - half), min(1.0, centre + half))
