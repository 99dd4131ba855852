"""Annotators that draw the coaching overlay on a frame, one thing each.

Each annotator is configured once and has `annotate(image, view) -> image`, drawing in place.
The live window and the annotated video use the same list (`default_annotators`). Sizes
scale with the frame height so the text stays readable from 2-3 m away.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posecheck.engine import FrameState
from posecheck.landmarks import LANDMARK_NAMES, SKELETON_EDGES, LandmarkSequence
from posecheck.spec import ExerciseSpec

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREEN = (80, 200, 60)
AMBER = (0, 170, 255)
RED = (50, 50, 230)
BLUE = (200, 120, 40)
GREY = (150, 150, 150)
SEVERITY_COLOURS = {"fault": RED, "warning": AMBER, "info": BLUE, "ok": GREEN}


@dataclass
class OverlayView:
    """What one frame's overlay needs: the pose (one frame), the checker's state and extras."""

    landmarks: LandmarkSequence
    state: FrameState
    spec: ExerciseSpec
    advice: str | None = None  # set-up advice while getting into position (guidance.py)
    status: str | None = None  # e.g. the live frame rate and latency
    controls: str | None = None  # the live keyboard controls


def _unit(image: np.ndarray) -> float:
    """Text scale for this frame: 1.0 at 480 pixels high."""
    return image.shape[0] / 480.0


def _text_box(image, text, origin, scale, colour, background, thickness, pad):
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    x, y = origin
    cv2.rectangle(image, (x - pad, y - h - pad), (x + w + pad, y + base + pad), background, -1)
    cv2.putText(image, text, (x, y), FONT, scale, colour, thickness, cv2.LINE_AA)
    return w, h + base + 2 * pad


class SkeletonAnnotator:
    """Bones and joints; the side being checked is drawn brighter."""

    def __init__(self, min_visibility: float = 0.5) -> None:
        self.min_visibility = min_visibility

    def annotate(self, image: np.ndarray, view: OverlayView) -> np.ndarray:
        xy = view.landmarks.xy[0]
        vis = view.landmarks.visibility[0]
        if np.isnan(xy[0, 0]):
            return image
        u = _unit(image)
        thick = max(2, int(round(3 * u)))
        side_prefix = view.state.side
        for a, b in SKELETON_EDGES:
            if vis[a] < self.min_visibility or vis[b] < self.min_visibility:
                continue
            colour = (255, 230, 120) if _on_side(a, b, side_prefix) else GREY
            cv2.line(image, _pt(xy[a]), _pt(xy[b]), colour, thick, cv2.LINE_AA)
        for i in range(11, 33):
            if vis[i] >= self.min_visibility:
                cv2.circle(image, _pt(xy[i]), thick + 1, WHITE, -1, cv2.LINE_AA)
        return image


def _on_side(a: int, b: int, side: str) -> bool:
    return LANDMARK_NAMES[a].startswith(side) or LANDMARK_NAMES[b].startswith(side)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


class GaugeAnnotator:
    """The metric that matters as a vertical bar with its target line (right edge)."""

    def annotate(self, image: np.ndarray, view: OverlayView) -> np.ndarray:
        gauge = view.spec.gauge
        if gauge is None:
            return image
        u = _unit(image)
        height, width = image.shape[:2]
        bar_w, top, bottom = int(28 * u), int(110 * u), int(height - 130 * u)
        x0 = width - bar_w - int(16 * u)
        cv2.rectangle(image, (x0, top), (x0 + bar_w, bottom), (40, 40, 40), -1)

        def y_of(value: float) -> int:
            frac = (np.clip(value, gauge.lo, gauge.hi) - gauge.lo) / (gauge.hi - gauge.lo)
            return int(bottom - frac * (bottom - top))

        value = view.state.gauge_value
        text = gauge.label
        if value == value:
            in_rep = view.state.phase in ("moving", "hold")
            colour = (GREEN if gauge.is_good(value) else AMBER) if in_rep else GREY
            cv2.rectangle(image, (x0, y_of(value)), (x0 + bar_w, bottom), colour, -1)
            text = f"{gauge.label} {value:.0f}"
        (tw, th), _ = cv2.getTextSize(text, FONT, 0.6 * u, 2)
        _text_box(
            image, text, (x0 + bar_w - tw, top - int(12 * u)), 0.6 * u, WHITE, (30, 30, 30), 2, int(5 * u)
        )
        yt = y_of(gauge.target)
        cv2.line(image, (x0 - int(8 * u), yt), (x0 + bar_w + int(4 * u), yt), WHITE, max(2, int(3 * u)))
        (tw, _), _ = cv2.getTextSize("target", FONT, 0.5 * u, 1)
        cv2.putText(
            image, "target", (x0 - tw - int(12 * u), yt + int(5 * u)), FONT, 0.5 * u, WHITE, 1, cv2.LINE_AA
        )
        return image


class CounterAnnotator:
    """Rep count against the dose (per side where the program counts per side) and the hold timer."""

    def annotate(self, image: np.ndarray, view: OverlayView) -> np.ndarray:
        u = _unit(image)
        state, dose = view.state, view.spec.dose
        target = dose.reps[1] if dose.reps[0] == dose.reps[1] else f"{dose.reps[0]}-{dose.reps[1]}"
        if dose.per_side or dose.alternating:
            left, right = state.reps_by_side
            text = f"Reps  L {left}/{target}  R {right}/{target}"
        else:
            text = f"Reps {state.reps}/{target}"
        pad = int(8 * u)
        _, h = _text_box(
            image, text, (pad * 2, int(40 * u)), 1.1 * u, WHITE, (30, 30, 30), max(2, int(2.5 * u)), pad
        )
        good = f"good {state.good_reps}"
        _text_box(image, good, (pad * 2, int(40 * u) + h + pad), 0.7 * u, GREEN, (30, 30, 30), 2, pad)
        if state.phase == "hold" and dose.hold_s and view.spec.reps.timed_hold:
            goal = dose.hold_s[0]
            text = f"Hold {state.hold_s:4.1f} / {goal:g} s"
            colour = GREEN if state.hold_s >= goal else WHITE
            x = image.shape[1] // 2 - int(110 * u)
            _text_box(image, text, (x, int(40 * u)), 1.1 * u, colour, (30, 30, 30), max(2, int(2.5 * u)), pad)
            frac = min(state.hold_s / goal, 1.0)
            y = int(40 * u) + int(18 * u)
            cv2.rectangle(image, (x, y), (x + int(220 * u), y + int(10 * u)), (60, 60, 60), -1)
            cv2.rectangle(image, (x, y), (x + int(220 * u * frac), y + int(10 * u)), colour, -1)
        return image


class MessageAnnotator:
    """The current form message in large plain words along the bottom of the frame."""

    def annotate(self, image: np.ndarray, view: OverlayView) -> np.ndarray:
        u = _unit(image)
        state = view.state
        if view.advice and state.phase in ("not_visible", "setup"):
            severity, message = "info", view.advice
        elif state.messages:
            severity, message = state.messages[0]
        elif state.phase in ("moving", "hold") and state.judged:
            severity, message = "ok", "Good form"  # only when a form rule was checked on what is seen
        elif state.phase in ("moving", "hold"):
            severity, message = "info", "Rep under way: form is checked at the top"
        elif state.phase == "rest":
            severity, message = "info", "Ready: start the next rep"
        else:
            return image
        height, width = image.shape[:2]
        scale = 0.9 * u
        thickness = max(2, int(round(2 * u)))
        lines = _wrap(message, width - int(40 * u), scale, thickness)
        line_h = int(38 * u)
        top = height - line_h * len(lines) - int(16 * u)
        cv2.rectangle(image, (0, top - int(10 * u)), (width, height), SEVERITY_COLOURS[severity], -1)
        for i, line in enumerate(lines):
            cv2.putText(
                image,
                line,
                (int(20 * u), top + int(26 * u) + i * line_h),
                FONT,
                scale,
                WHITE,
                thickness,
                cv2.LINE_AA,
            )
        return image


class CountdownAnnotator:
    """While the start position is being held: a big countdown to when counting begins."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s

    def annotate(self, image: np.ndarray, view: OverlayView) -> np.ndarray:
        state = view.state
        if state.phase != "setup" or not 0.0 < state.setup_progress < 1.0 or view.advice:
            return image
        u = _unit(image)
        remaining = max(1, int(np.ceil((1.0 - state.setup_progress) * self.hold_s)))
        text = f"Stay in position... {remaining}"
        (tw, th), _ = cv2.getTextSize(text, FONT, 1.6 * u, 4)
        x, y = (image.shape[1] - tw) // 2, int(image.shape[0] * 0.3) + th // 2
        _text_box(image, text, (x, y), 1.6 * u, WHITE, BLUE, max(3, int(4 * u)), int(12 * u))
        return image


class StatusAnnotator:
    """Small print in the corners: frame rate and latency, and the keyboard controls."""

    def annotate(self, image: np.ndarray, view: OverlayView) -> np.ndarray:
        u = _unit(image)
        height, width = image.shape[:2]
        if view.status:
            (tw, _), _ = cv2.getTextSize(view.status, FONT, 0.45 * u, 1)
            _text_box(
                image, view.status, (width - tw - int(10 * u), int(20 * u)), 0.45 * u, WHITE, BLACK, 1, 4
            )
        if view.controls:
            _text_box(
                image, view.controls, (int(10 * u), int(100 * u) + int(20 * u)), 0.45 * u, WHITE, BLACK, 1, 4
            )
        return image


def _wrap(text: str, max_width: int, scale: float, thickness: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        trial = f"{current} {word}".strip()
        if cv2.getTextSize(trial, FONT, scale, thickness)[0][0] <= max_width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines[:3]


def default_annotators(countdown_s: float = 1.0) -> list:
    return [
        SkeletonAnnotator(),
        GaugeAnnotator(),
        CounterAnnotator(),
        CountdownAnnotator(countdown_s),
        MessageAnnotator(),
        StatusAnnotator(),
    ]


def draw_overlay(image: np.ndarray, view: OverlayView, annotators: list) -> np.ndarray:
    for annotator in annotators:
        image = annotator.annotate(image, view)
    return image
