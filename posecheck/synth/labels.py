"""Ground-truth labels from a clip's timeline: per-frame phase and rep index, and per-rep
frames, holds, faults and the frames where each fault shows.

Frame i is taken at time i / fps. Frame numbers are 0-based and inclusive. Pure numpy.
"""

from __future__ import annotations

import numpy as np

from posecheck.synth.timeline import FAULT_PREFIX, Timeline

PHASES = ("setup", "rest", "moving_out", "hold", "returning")


def frame_times(n_frames: int, fps: float) -> np.ndarray:
    return np.arange(n_frames) / float(fps)


def n_frames_for(timeline: Timeline, fps: float) -> int:
    return int(np.floor(timeline.duration * fps + 1e-6)) + 1


def per_frame(timeline: Timeline, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(phase (N,) str, rep_index (N,) int16) for every frame of the timeline."""
    return timeline.phase_at(frame_times(n_frames_for(timeline, fps), fps))


def fault_window(
    fault: str, scope: str, rep: int, phase: np.ndarray, rep_index: np.ndarray, track: np.ndarray | None
) -> list[int]:
    """[first, last] frame of rep `rep` where `fault` shows.

    scope "hold": the rep's hold frames (while the fault's keyed amount is at least 0.5, if it
    is keyed); scope "track": the rep's frames where the keyed amount is at least 0.5."""
    in_rep = rep_index == rep
    if scope == "hold":
        mask = in_rep & (phase == "hold")
        if track is not None and (mask & (track >= 0.5)).any():
            mask &= track >= 0.5
    elif scope == "track":
        if track is None:
            raise ValueError(f"fault {fault!r} has no keyed amount to find its frames by")
        mask = in_rep & (track >= 0.5)
    else:
        raise ValueError(f"unknown fault scope {scope!r}")
    frames = np.flatnonzero(mask)
    if len(frames) == 0:
        raise ValueError(f"rep {rep} is labelled {fault!r} but no frame shows it")
    return [int(frames[0]), int(frames[-1])]


def rep_labels(
    timeline: Timeline,
    fps: float,
    faults_by_rep: list[list[str]],
    scopes: dict[str, str],
    tracks: dict[str, np.ndarray],
    sides: list[str | None] | None = None,
    notes: list[dict] | None = None,
) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """The `reps` list of the label file, and the per-frame phase and rep index arrays.

    tracks: ``fault:<id>`` amounts per frame (as sampled from the timeline)."""
    phase, rep_index = per_frame(timeline, fps)
    reps = []
    for i, faults in enumerate(faults_by_rep):
        frames = np.flatnonzero(rep_index == i)
        if len(frames) == 0:
            raise ValueError(f"rep {i} has no frames")
        hold = np.flatnonzero((rep_index == i) & (phase == "hold"))
        hold_spans = [s for s in timeline.spans if s.rep == i and s.phase == "hold"]
        hold_s = sum(s.t1 - s.t0 for s in hold_spans)
        side = sides[i] if sides else None
        rep = {
            "index": i,
            "start_frame": int(frames[0]),
            "end_frame": int(frames[-1]),
            "hold_start_frame": int(hold[0]) if len(hold) else None,
            "hold_end_frame": int(hold[-1]) if len(hold) else None,
            "top_start_frame": int(hold[0]) if len(hold) else None,
            "top_end_frame": int(hold[-1]) if len(hold) else None,
            "hold_s": round(float(hold_s), 3),
            "side": {"l": "left", "r": "right"}.get(side) if side else None,
            "faults": list(faults),
            "fault_frames": {
                f: fault_window(f, scopes.get(f, "track"), i, phase, rep_index, tracks.get(FAULT_PREFIX + f))
                for f in faults
            },
            "clean": not faults,
        }
        if notes:
            rep["injected"] = notes[i]
        reps.append(rep)
    return reps, phase, rep_index


def setup_end_frame(phase: np.ndarray) -> int:
    """The first frame after getting into position (the number of setup frames)."""
    setup = np.flatnonzero(phase == "setup")
    return int(setup[-1]) + 1 if len(setup) else 0
