"""The session report: a versioned JSON document and a one-screen rich summary."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from posecheck import __version__
from posecheck.engine import CheckResult, FaultEvent
from posecheck.spec import ExerciseSpec

SCHEMA_VERSION = 1


@dataclass
class RunInfo:
    """Where the data came from, for the report."""

    source: str
    frames: int
    fps: float
    image_size: tuple[int, int]
    model: dict[str, Any] | None
    side_option: str
    interrupted: bool = False
    source_stopped_early: bool = False


def _fault(event: FaultEvent) -> dict[str, Any]:
    return {
        "rule": event.rule,
        "message": event.message,
        "severity": event.severity,
        "start_s": round(event.start_t, 3),
        "end_s": round(event.end_t, 3),
    }


def build_report(spec: ExerciseSpec, result: CheckResult, run: RunInfo, side_used: str) -> dict[str, Any]:
    """The report as plain data (see README 'The report' for the fields)."""
    dose = spec.dose
    faults = Counter(f.rule for rep in result.reps for f in rep.faults)
    holds = [rep.hold_s for rep in result.reps]
    seconds_not_visible = sum(end - start for start, end in result.not_visible)
    return {
        "schema_version": SCHEMA_VERSION,
        "posecheck_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "exercise": {
            "id": spec.id,
            "name": spec.name,
            "phase": spec.phase,
            "view": spec.view,
            "dose": {
                "reps": list(dose.reps),
                "sets": dose.sets,
                "hold_s": list(dose.hold_s) if dose.hold_s else None,
                "per_side": dose.per_side,
                "alternating": dose.alternating,
                "text": dose.text,
            },
            "not_checked": list(spec.not_checked),
            "spec_file": str(spec.source) if spec.source else None,
        },
        "input": {
            "source": run.source,
            "frames": run.frames,
            "fps": round(run.fps, 3),
            "width": run.image_size[0],
            "height": run.image_size[1],
            "side_option": run.side_option,
        },
        "model": run.model,
        "complete": not (run.interrupted or run.source_stopped_early),
        "interrupted": run.interrupted,
        "source_stopped_early": run.source_stopped_early,
        "side": side_used,
        "counting_started_s": None
        if result.counting_started_t is None
        else round(result.counting_started_t, 3),
        "summary": {
            "reps": len(result.reps),
            "good_reps": result.good_reps,
            "reps_by_side": {"left": result.reps_on("left"), "right": result.reps_on("right")},
            "target_reps": list(dose.reps),
            "hold_s": {
                "target": list(dose.hold_s) if dose.hold_s else None,
                "per_rep": holds,
                "mean": round(sum(holds) / len(holds), 3) if holds else None,
            },
            "faults_by_rule": dict(sorted(faults.items())),
            "abandoned_attempts": result.abandoned_attempts,
            "frames_not_visible": result.frames_not_visible,
            "seconds_not_visible": round(seconds_not_visible, 3),
        },
        "reps": [
            {
                "index": rep.index,
                "side": rep.side,
                "start_s": round(rep.start_t, 3),
                "end_s": round(rep.end_t, 3),
                "hold_s": rep.hold_s,
                "hold_start_s": None if rep.hold_start_t is None else round(rep.hold_start_t, 3),
                "hold_end_s": None if rep.hold_end_t is None else round(rep.hold_end_t, 3),
                "peak": round(rep.peak, 4) if rep.peak == rep.peak else None,
                "good": rep.good,
                "cut_off": rep.cut_off,  # under way when the recording began or still going when it ended
                "faults": [_fault(f) for f in rep.faults],
            }
            for rep in result.reps
        ],
        "faults_outside_reps": [_fault(f) for f in result.faults_outside_reps],
        "not_visible": [{"start_s": round(a, 3), "end_s": round(b, 3)} for a, b in result.not_visible],
    }


MAX_SERIES_POINTS = 1500


def frame_series(states: list) -> dict[str, list]:
    """The rep metric and gauge metric over time (thinned to at most MAX_SERIES_POINTS), for plots."""
    step = max(1, -(-len(states) // MAX_SERIES_POINTS))
    picked = states[::step]

    def clean(value: float) -> float | None:
        return None if value != value else round(float(value), 4)

    return {
        "t": [round(s.t, 3) for s in picked],
        "rep_metric": [clean(s.rep_value) for s in picked],
        "gauge": [clean(s.gauge_value) for s in picked],
        "phase": [s.phase for s in picked],
    }


class SeriesRecorder:
    """`frame_series` for a run of any length in bounded memory.

    Keeps every `step`-th frame's state; whenever more than twice MAX_SERIES_POINTS are kept, every
    other one is dropped and the step doubles. So an hour of video costs no more than a minute.
    """

    def __init__(self) -> None:
        self.frames = 0
        self._step = 1
        self._kept: list = []

    def add(self, state: Any) -> None:
        if self.frames % self._step == 0:
            self._kept.append(state)
            if len(self._kept) > 2 * MAX_SERIES_POINTS:
                self._kept = self._kept[::2]
                self._step *= 2
        self.frames += 1

    def series(self) -> dict[str, list]:
        return frame_series(self._kept)


def write_json_atomic(data: dict[str, Any], path: Path) -> None:
    """Write JSON so that a crash or a full disk never leaves a half-written file."""
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def write_text_atomic(path: Path, text: str) -> Path:
    """Write a text file under a temporary name, then rename it: the final name only ever holds a
    whole file. On any error (e.g. OSError ENOSPC: disk full) the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def print_summary(report: dict[str, Any], outputs: dict[str, Path], console: Console) -> None:
    """One screen: counts against the dose, a row per rep, where the files are."""
    exercise, summary = report["exercise"], report["summary"]
    low, high = summary["target_reps"]
    target = f"{high}" if low == high else f"{low}-{high}"
    per_side = exercise["dose"]["per_side"] or exercise["dose"]["alternating"]
    title = f"{exercise['name']}  ({exercise['phase'].upper()})"
    console.rule(f"[bold]{title}")
    if per_side:
        by_side = summary["reps_by_side"]
        counts = f"left {by_side['left']}/{target}, right {by_side['right']}/{target}"
    else:
        counts = f"{summary['reps']}/{target}"
    good = summary["good_reps"]
    console.print(f"Reps: [bold]{counts}[/]   good: [bold green]{good}[/]   dose: {exercise['dose']['text']}")
    if report["reps"]:
        table = Table(show_edge=False, header_style="bold")
        for column in ("#", "side", "time", "hold", "form"):
            table.add_column(column)
        for rep in report["reps"]:
            faults = "; ".join(f["message"] for f in rep["faults"]) or "[green]good[/]"
            table.add_row(
                str(rep["index"] + 1),
                rep["side"],
                f"{rep['start_s']:.1f}-{rep['end_s']:.1f} s",
                f"{rep['hold_s']:.1f} s",
                faults if rep["good"] else f"[red]{faults}[/]",
            )
        console.print(table)
    else:
        console.print("[yellow]No reps were counted.[/]")
    if summary["seconds_not_visible"] > 0.5:
        console.print(
            f"[yellow]You were not fully visible for {summary['seconds_not_visible']:.1f} s "
            "(no verdict for those frames).[/]"
        )
    if report["interrupted"]:
        console.print("[yellow]Stopped early: this report covers the part analysed before the stop.[/]")
    for warning in report.get("warnings", []):
        console.print(f"[yellow]Note: {warning}[/]", highlight=False)
    if exercise["not_checked"]:
        console.print("[dim]Not checked by the camera: " + " ".join(exercise["not_checked"]) + "[/]")
    for label, path in outputs.items():
        console.print(f"{label}: {path}")
