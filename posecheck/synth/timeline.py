"""Keyframed motion: poses at key times, minimum-jerk easing between them, labelled spans.

A `Timeline` is written forward in time by an exercise script: `go` moves to a new pose over
some seconds, `stay` holds the current one. Every call also records a `Span` (its phase name
and rep number), so the labels come from the very same numbers as the motion. Poses are flat
dicts of floats; a key only has to name what changes, the rest carries over. Parameters named
``fault:<id>`` are interpolated like any other: an exercise sets them to 1 in a faulty pose
and the labels read where they are at least 0.5 (see `posecheck.synth.labels`).

Pure numpy: no body model needed, so it is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FAULT_PREFIX = "fault:"


def min_jerk(u: np.ndarray | float) -> np.ndarray:
    """Minimum-jerk easing 10u^3 - 15u^4 + 6u^5: zero speed and acceleration at both ends."""
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    return u**3 * (10.0 + u * (-15.0 + 6.0 * u))


@dataclass
class Span:
    """A stretch of the timeline: `phase` from t0 to t1 seconds, belonging to rep `rep` (-1: none)."""

    phase: str
    t0: float
    t1: float
    rep: int = -1


@dataclass
class Timeline:
    """Keyframes (time, full pose) and the labelled spans between them."""

    start: dict[str, float]
    keys: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys.append((0.0, dict(self.start)))

    @property
    def now(self) -> float:
        return self.keys[-1][0]

    @property
    def pose(self) -> dict[str, float]:
        """The pose at the end of the timeline (a copy)."""
        return dict(self.keys[-1][1])

    def go(self, seconds: float, phase: str, rep: int = -1, **changes: float) -> Timeline:
        """Move from the current pose to the current pose updated with `changes`."""
        return self.go_to(seconds, {**self.pose, **changes}, phase, rep)

    def go_to(self, seconds: float, pose: dict[str, float], phase: str, rep: int = -1) -> Timeline:
        if seconds <= 0:
            raise ValueError(f"a move needs a positive duration, got {seconds}")
        t0 = self.now
        self.keys.append((t0 + seconds, {**self.pose, **pose}))
        self._span(phase, t0, t0 + seconds, rep)
        return self

    def stay(self, seconds: float, phase: str, rep: int = -1) -> Timeline:
        return self.go_to(seconds, self.pose, phase, rep)

    def _span(self, phase: str, t0: float, t1: float, rep: int) -> None:
        last = self.spans[-1] if self.spans else None
        if last is not None and last.phase == phase and last.rep == rep and abs(last.t1 - t0) < 1e-9:
            last.t1 = t1  # merge consecutive pieces of the same phase
        else:
            self.spans.append(Span(phase, t0, t1, rep))

    @property
    def duration(self) -> float:
        return self.now

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for _, pose in self.keys:
            seen.update(dict.fromkeys(pose))
        return list(seen)

    def sample(self, times: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter at the given times (seconds): arrays of len(times).

        Between two keys each parameter eases from one value to the next with `min_jerk`;
        before the first key and after the last it keeps their values. A parameter missing
        from a key takes its value from the key before (or 0 if none has it yet)."""
        times = np.asarray(times, dtype=float)
        key_t = np.array([t for t, _ in self.keys])
        if np.any(np.diff(key_t) <= 0):
            raise ValueError("keyframe times must increase")
        names = self.names()
        values = np.zeros((len(self.keys), len(names)))
        current = dict.fromkeys(names, 0.0)
        for k, (_, pose) in enumerate(self.keys):
            current.update(pose)
            values[k] = [current[n] for n in names]
        if len(key_t) == 1:
            return {n: np.full(len(times), values[0, j]) for j, n in enumerate(names)}
        seg = np.clip(np.searchsorted(key_t, times, side="right") - 1, 0, len(key_t) - 2)
        u = min_jerk((times - key_t[seg]) / (key_t[seg + 1] - key_t[seg]))
        out = values[seg] + (values[seg + 1] - values[seg]) * u[:, None]
        return {n: out[:, j] for j, n in enumerate(names)}

    def phase_at(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per time: the phase name ('' outside every span) and the rep index (-1 outside reps)."""
        times = np.asarray(times, dtype=float)
        phase = np.full(len(times), "", dtype=object)
        rep = np.full(len(times), -1, dtype=np.int16)
        for span in self.spans:
            inside = (times >= span.t0 - 1e-9) & (times < span.t1 - 1e-9)
            phase[inside] = span.phase
            rep[inside] = span.rep
        phase[times >= self.now - 1e-9] = self.spans[-1].phase if self.spans else ""
        rep[times >= self.now - 1e-9] = self.spans[-1].rep if self.spans else -1
        return phase.astype(str), rep


def wobble(times: np.ndarray, rng: np.random.Generator, amplitude: float, freq=(0.12, 0.45)) -> np.ndarray:
    """Smooth 'alive' noise: three sines of random frequency and phase, peak about `amplitude`."""
    f = rng.uniform(freq[0], freq[1], 3)
    ph = rng.uniform(0.0, 2 * np.pi, 3)
    w = rng.uniform(0.5, 1.0, 3)
    s = sum(wi * np.sin(2 * np.pi * fi * np.asarray(times) + p) for wi, fi, p in zip(w, f, ph, strict=True))
    return amplitude * s / w.sum()
