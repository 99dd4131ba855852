"""Whether a session counts toward the program's progression: only real attempts do.

A session moves the program (mastery, unlocking, regression) only when it is a real attempt
at the exercise: at least `MIN_SECONDS` of video, the person seen and counting started (the
start position reached), analysed by the pose model (not a re-check of saved landmarks), not
stopped by an error, and made with the built-in spec of that exercise (not a user's spec file
that replaces it). Anything else (a still image renamed .mp4, a one-frame clip, a session
stopped in its first second) is stored as not counting, with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posecheck.spec import bundled_spec_dir

MIN_SECONDS = 3.0


def why_not_counted(report: dict[str, Any]) -> str | None:
    """None when the session counts toward progression, else the reason in a few words."""
    summary = report["summary"]
    frames = report["input"]["frames"]
    fps = report["input"]["fps"]
    seconds = frames / fps if fps else 0.0
    model = report.get("model") or {}
    if report.get("stopped_by") == "error":
        return "the run stopped on an error"
    if "cached_landmarks" in model:
        return "a re-check of saved landmarks"
    if seconds < MIN_SECONDS:
        return f"too short ({seconds:.1f} s; at least {MIN_SECONDS:g} s needed)"
    if summary["frames_not_visible"] >= frames:
        return "nobody was seen"
    if report.get("counting_started_s") is None:
        return "the start position was never reached, so counting never started"
    if _replaces_builtin(report["exercise"]):
        return f"made with your own spec file {report['exercise']['spec_file']}, not the program's"
    return None


def _replaces_builtin(exercise: dict[str, Any]) -> bool:
    """The session used a user's spec file carrying the id of a built-in exercise."""
    spec_file = exercise.get("spec_file")
    if not spec_file:
        return False
    builtin = bundled_spec_dir().resolve()
    if Path(spec_file).resolve().parent == builtin:
        return False
    return (builtin / f"{exercise['id']}.toml").is_file()
