"""One Euro filter for landmark coordinates: smooths jitter when still, follows fast moves.

Casiez, Roussel and Vogel (CHI 2012): an adaptive low-pass filter whose cutoff rises with
speed, so a rep is not delayed while a held position is steadied. Stateful and causal;
vectorised over landmarks, stepped over frames.
"""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters arrays of a fixed shape, frame by frame.

    min_cutoff_hz: cutoff when still (lower = smoother). beta: how fast the cutoff rises
    with speed (in the array's units per second). NaN inputs reset the affected entries.
    """

    def __init__(self, min_cutoff_hz: float = 1.5, beta: float = 0.5, d_cutoff_hz: float = 1.0) -> None:
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def step(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filtered value of `x` observed at `t` seconds."""
        if self._x is None or self._t is None or t <= self._t:
            self._x = x.copy()
            self._dx = np.zeros_like(x)
            self._t = t
            return x.copy()
        dt = t - self._t
        fresh = np.isnan(self._x) & ~np.isnan(x)  # entries that were missing restart here
        dx = (x - self._x) / dt
        a_d = _alpha(self.d_cutoff_hz, dt)
        dx_hat = a_d * dx + (1.0 - a_d) * self._dx
        cutoff = self.min_cutoff_hz + self.beta * np.abs(dx_hat)
        a = _alpha(cutoff, dt)
        x_hat = a * x + (1.0 - a) * self._x
        x_hat = np.where(fresh, x, x_hat)
        dx_hat = np.where(fresh | np.isnan(dx_hat), 0.0, dx_hat)
        self._x, self._dx, self._t = x_hat, dx_hat, t
        return x_hat

    def run(self, xs: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Filter a whole (T, ...) array, continuing from the current state."""
        out = np.empty_like(xs, dtype=float)
        for i in range(len(ts)):
            out[i] = self.step(xs[i], float(ts[i]))
        return out
