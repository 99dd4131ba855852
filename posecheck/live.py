"""The live trainer: coach a person through an exercise in front of a camera.

A capture thread always hands over the newest frame (no backlog, so no lag that builds up);
the main loop runs pose -> checker -> overlay on it and shows the picture in a window (or,
headless, only records). A video file can stand in for the camera: it is played at its real
frame rate, dropping frames when the loop falls behind, as a camera would.

Keys: p or space pause/resume, r restart the set, s switch side, n next exercise, f full screen,
q or Esc quit. The window (live_window.py) is drawn at its own size, mirrored for front views.
Every way of ending (quit, Ctrl-C, SIGTERM or SIGHUP, closing the window, the camera
disappearing, a failure in the capture or recording thread) writes the report of each set done
so far, and the recording when asked for; `raise_if_failed()` then says what failed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from posecheck import stop_signals
from posecheck.disk_space import disk_full_error, is_disk_full
from posecheck.engine import Checker, FrameState
from posecheck.errors import BackgroundFailure, RunStopped, UserError
from posecheck.guidance import brightness, setup_advice
from posecheck.live_window import LiveWindow, check_display, render
from posecheck.model_store import ModelInfo
from posecheck.overlay import OverlayView, default_annotators, draw_overlay
from posecheck.person_lock import PeopleWatch, PersonLock
from posecheck.quality import set_quality
from posecheck.report import RunInfo, SeriesRecorder, build_report, write_json_atomic
from posecheck.source import CameraSource, Frame, FrameSource, open_source
from posecheck.spec import ExerciseSpec
from posecheck.speech import Speaker
from posecheck.video_io import BackgroundVideoWriter

CONTROLS = "keys: p pause  r restart set  s switch side  n next exercise  f full screen  q quit"
STALL_TIMEOUT_S = 3.0  # no new frame for this long: the camera has stopped


@dataclass
class Captured:
    frame: Frame
    captured_at: float  # time.monotonic() when the frame became available


class LatestFrameGrabber:
    """Reads a frame source in a thread and keeps only the newest frame.

    With `realtime=True` (a video file standing in for a camera) frames are released at the
    file's own pace; a consumer that is slower than the source simply misses frames.
    """

    def __init__(self, source: FrameSource, realtime: bool) -> None:
        self.source = source
        self.realtime = realtime
        self.ended = False
        self.error: BaseException | None = None
        self._latest: Captured | None = None
        self._condition = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-grabber", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        start = time.monotonic()
        try:
            for frame in self.source:
                if self._stop.is_set():
                    return
                if self.realtime:
                    delay = start + frame.t - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                with self._condition:
                    self._latest = Captured(frame, time.monotonic())
                    self._condition.notify_all()
        except BaseException as exc:  # handed to the consumer
            self.error = exc
        finally:
            with self._condition:
                self.ended = True
                self._condition.notify_all()

    def next(self, timeout: float) -> Captured | None:
        """The newest frame not handed out before; None once the source has ended or stalled."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._latest is None and not self.ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._condition.wait(remaining)
            latest, self._latest = self._latest, None
            return latest

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


@dataclass
class SetRecord:
    """One set of one exercise: its checker and what it saw."""

    spec: ExerciseSpec
    checker: Checker
    frames: int = 0
    series: SeriesRecorder = field(default_factory=SeriesRecorder)  # bounded, however long the set


@dataclass
class LiveOutcome:
    reports: list[dict[str, Any]]
    files: dict[str, Path]
    ended_by: str  # quit | interrupted | window_closed | source_ended | camera_stopped | program_done | error
    frames: int
    mean_latency_ms: float | None
    mean_fps: float | None


def _rest_screen(image: np.ndarray, title: str, text: str) -> np.ndarray:
    """A dimmed picture with the rest countdown and what comes next."""
    shown = (image * 0.35).astype(np.uint8)
    unit = image.shape[0] / 480.0
    for i, (line, scale) in enumerate(((title, 1.6), (text, 0.6))):
        (width, _), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale * unit, 2)
        x = max(10, (image.shape[1] - width) // 2)
        y = int(image.shape[0] * (0.42 + 0.14 * i))
        cv2.putText(
            shown, line, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale * unit, (255, 255, 255), 2, cv2.LINE_AA
        )
    return shown


class LiveSession:
    """Runs the coached session loop; `run()` returns when the session ends, however it ends."""

    def __init__(
        self,
        specs: list[ExerciseSpec],
        camera: str | FrameSource,
        model: ModelInfo,
        out_dir: Path,
        *,
        headless: bool = False,
        record: bool = False,
        speak: bool = False,
        side: str = "auto",
        max_seconds: float | None = None,
        stop_at_dose: bool = False,
        rest_s: float = 0.0,
        fullscreen: bool = False,
        mirror: str = "auto",
    ) -> None:
        """`stop_at_dose` (a program session): when a set reaches the program's dose, show its
        quality, rest `rest_s` seconds and go on to the next exercise; end after the last.
        `mirror`: "auto" mirrors the window for exercises that face the camera, "on", "off"."""
        if not specs:
            raise UserError("No exercise to coach.")
        if not headless:
            check_display()
        self.specs = specs
        self.model = model
        self.out_dir = out_dir
        self.headless = headless
        self.side = side
        self.max_seconds = max_seconds
        self.source = camera if isinstance(camera, FrameSource) else open_source(camera)
        self.source_name = self.source.name
        self.record = record
        self.speaker = Speaker.create(enabled=speak)
        self.sets: list[SetRecord] = []
        self.latencies: list[float] = []
        self.paused = False
        self.stop_at_dose = stop_at_dose
        self.rest_s = rest_s
        self.set_scores: list[tuple[str, float]] = []
        self.report_paths: list[tuple[ExerciseSpec, dict[str, Any], Path]] = []
        self.files: dict[str, Path] = {}  # the recording and the reports, once run() has ended
        self.failure: BaseException | None = None  # what stopped the session, if something failed
        self.annotators = default_annotators(specs[0].start.hold_s)
        self.lock = PersonLock()  # never another person's landmarks
        self._exercise_index = 0
        self.fullscreen = fullscreen
        self.mirror = mirror
        self.window: LiveWindow | None = None

    def mirrored(self, spec: ExerciseSpec) -> bool:
        """Whether the window shows this exercise mirrored (the checker never sees a mirror)."""
        return self.mirror == "on" or (self.mirror == "auto" and spec.view in ("front", "either"))

    # --- helpers ---------------------------------------------------------------------------

    def _new_set(self) -> SetRecord:
        spec = self.specs[self._exercise_index]
        record = SetRecord(spec, Checker(spec, side=self.side))
        self.sets.append(record)
        self.annotators = default_annotators(spec.start.hold_s)  # this exercise's own countdown
        self.speaker.say(f"{spec.name}. {spec.start.message}.")
        return record

    def _handle_key(self, key: int, current: SetRecord) -> tuple[SetRecord, str | None]:
        """Apply one key press; returns the (maybe new) set and 'quit' when the session should end."""
        char = chr(key & 0xFF).lower() if key >= 0 else ""
        if char in ("q", "\x1b"):
            return current, "quit"
        if char in ("p", " "):
            self.paused = not self.paused
        elif char == "r":
            current = self._new_set()
        elif char == "s":
            side = "right" if current.checker.side == "left" else "left"
            self.side = side
            current = self._new_set()
        elif char == "n":
            if self._exercise_index + 1 >= len(self.specs):
                return current, "quit"
            self._exercise_index += 1
            current = self._new_set()
        elif char == "f" and self.window is not None:
            self.window.toggle_fullscreen()
        return current, None

    def _dose_done(self, record: SetRecord, state: FrameState) -> bool:
        """The set has the program's lowest rep count (per side where it applies) and is at rest."""
        dose = record.spec.dose
        if state.phase != "rest":
            return False
        if dose.per_side or dose.alternating:
            return min(state.reps_by_side) >= dose.reps[0]
        return state.reps >= dose.reps[0]

    def _set_score(self, record: SetRecord) -> float:
        run = RunInfo(self.source_name, record.frames, self.source.fps, self.source.size, None, self.side)
        report = build_report(record.spec, record.checker.result, run, record.checker.side)
        return set_quality(report)["score"]

    def _speak_changes(self, before: FrameState | None, state: FrameState) -> None:
        if before is None:
            return
        if state.reps > before.reps:
            self.speaker.say(str(state.reps))
        new_message = state.messages and (not before.messages or before.messages[0] != state.messages[0])
        if new_message and state.messages[0][0] in ("fault", "warning"):
            self.speaker.say(state.messages[0][1])

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> LiveOutcome:
        realtime = not isinstance(self.source, CameraSource)  # a camera paces itself; a file must be paced
        grabber = LatestFrameGrabber(self.source, realtime=realtime)
        from posecheck.pose import PoseEstimator

        estimator = PoseEstimator(self.model.path)
        if not self.headless:
            self.window = LiveWindow(self.source.size, fullscreen=self.fullscreen)
        window = self.window
        writer = None
        files = self.files
        if self.record:
            files["recording"] = self.out_dir / "session.recording.mp4"
            writer = BackgroundVideoWriter(files["recording"], self.source.fps, self.source.size)
        current = self._new_set()
        resting_until: float | None = None
        rest_text = ""
        previous_state: FrameState | None = None
        ended_by = "source_ended"
        written = 0
        start = time.monotonic()
        fps = 0.0
        last_frame_at: float | None = None
        try:
            while True:
                captured = grabber.next(timeout=STALL_TIMEOUT_S)
                if captured is None:
                    if grabber.error is not None:
                        raise BackgroundFailure("capturing frames", grabber.error) from grabber.error
                    stalled = not grabber.ended
                    ended_by = "camera_stopped" if (stalled or self.source.stopped_early) else "source_ended"
                    break
                frame = captured.frame
                if resting_until is not None:  # between exercises of a program: nothing is counted
                    left = resting_until - time.monotonic()
                    if left > 0:
                        if window is not None:
                            mirror = self.mirrored(current.spec)
                            picture = render(frame.image, None, [], window.area(), mirror)
                            window.show(_rest_screen(picture, f"Rest {left:4.0f} s", rest_text))
                            if chr(window.key() & 0xFF).lower() in ("q", "\x1b"):
                                ended_by = "quit"
                                break
                        continue
                    resting_until = None
                    current = self._new_set()
                pose = self.lock.follow(estimator.estimate(frame.image, frame.t))
                if self.paused:
                    state = previous_state or current.checker.process(pose)[0]
                else:
                    state = current.checker.process(pose)[0]
                    current.frames += 1
                    current.series.add(state)
                advice = None
                if state.phase in ("not_visible", "setup"):
                    advice = setup_advice(pose, brightness(frame.image), current.spec)
                now = time.monotonic()
                if last_frame_at is not None:
                    fps = (
                        0.9 * fps + 0.1 / max(now - last_frame_at, 1e-6)
                        if fps
                        else 1.0 / max(now - last_frame_at, 1e-6)
                    )
                last_frame_at = now
                latency_ms = (now - captured.captured_at) * 1000.0
                status = f"{fps:4.1f} fps  {latency_ms:3.0f} ms" + ("  PAUSED" if self.paused else "")
                view = OverlayView(
                    pose,
                    state,
                    current.spec,
                    advice=advice,
                    status=status,
                    controls=None if self.headless else CONTROLS,
                )
                if window is not None:  # drawn at the window's size, before the frame is drawn on below
                    mirror = self.mirrored(current.spec)
                    picture = render(frame.image, view, self.annotators, window.area(), mirror)
                    if self.paused:
                        picture = _rest_screen(picture, "Paused", "press p or space to go on")
                if window is None or writer is not None:
                    image = draw_overlay(frame.image, view, self.annotators)
                self.latencies.append((time.monotonic() - captured.captured_at) * 1000.0)
                self._speak_changes(previous_state, state)
                previous_state = state
                if writer is not None:  # repeat frames so the recording keeps real time
                    due = int(round(frame.t * self.source.fps)) + 1
                    for _ in range(max(1, due - written)):
                        writer.write(image)
                        written += 1
                if window is not None:
                    window.show(picture)
                    key = window.key()
                    if window.closed():
                        ended_by = "window_closed"
                        break
                    current, action = self._handle_key(key, current)
                    if action == "quit":
                        ended_by = "quit"
                        break
                if self.max_seconds is not None and time.monotonic() - start > self.max_seconds:
                    ended_by = "quit"
                    break
                if self.stop_at_dose and self._dose_done(current, state):
                    score = self._set_score(current)
                    self.set_scores.append((current.spec.id, score))
                    self.speaker.say(f"Set done. Quality {score:.0f}.")
                    if self._exercise_index + 1 >= len(self.specs):
                        ended_by = "program_done"
                        break
                    self._exercise_index += 1
                    upcoming = self.specs[self._exercise_index].name
                    rest_text = f"{current.spec.name}: quality {score:.0f}/100. Next: {upcoming}"
                    resting_until = time.monotonic() + self.rest_s
        except KeyboardInterrupt:
            ended_by = "interrupted"
        except UserError:
            raise
        except Exception as exc:  # a thread or this loop failed: keep the sets done so far
            self.failure, ended_by = exc, "error"
        finally:
            with stop_signals.finishing():
                grabber.close()
                estimator.close()
                self.source.close()
                if writer is not None:
                    writer.close()
                    if writer.error is not None:
                        files.pop("recording", None)  # close() removed it: never a broken file
                        if self.failure is None:
                            self.failure = BackgroundFailure(writer.failed_task, writer.error)
                            ended_by = "error" if ended_by == "source_ended" else ended_by
                if window is not None:
                    window.close()
                self.speaker.close()
                reports = self._write_reports(files, ended_by)
        elapsed = time.monotonic() - start
        frames = sum(s.frames for s in self.sets)
        return LiveOutcome(
            reports=reports,
            files=files,
            ended_by=ended_by,
            frames=frames,
            mean_latency_ms=float(np.mean(self.latencies)) if self.latencies else None,
            mean_fps=frames / elapsed if elapsed > 0 else None,
        )

    def _write_reports(self, files: dict[str, Path], ended_by: str) -> list[dict[str, Any]]:
        reports = []
        counts: dict[str, int] = {}
        for record in self.sets:
            if record.frames == 0 and len(self.sets) > 1:
                continue  # a set restarted before it saw anything
            spec = record.spec
            counts[spec.id] = counts.get(spec.id, 0) + 1
            name = spec.id if counts[spec.id] == 1 else f"{spec.id}.set{counts[spec.id]}"
            run = RunInfo(
                source=self.source_name,
                frames=record.frames,
                fps=self.source.fps,
                image_size=self.source.size,
                model={
                    "path": str(self.model.path),
                    "variant": self.model.variant,
                    "sha256": self.model.sha256,
                },
                side_option=self.side,
                interrupted=ended_by in ("interrupted", "window_closed", "quit", "error")
                and record is self.sets[-1],
                source_stopped_early=ended_by == "camera_stopped",
            )
            report = build_report(spec, record.checker.finish(), run, record.checker.side)
            report["live"] = {"ended_by": ended_by}
            report["stopped_by"] = stop_signals.interrupt_name() if ended_by == "interrupted" else None
            if self.failure is not None and record is self.sets[-1]:
                report["stopped_by"], report["error"] = "error", str(self.failure)
            report["series"] = record.series.series()
            jumps = PeopleWatch().warning(self.lock.left_out) if record is self.sets[-1] else None
            report["warnings"] = list(getattr(self.source, "warnings", ())) + ([jumps] if jumps else [])
            path = self.out_dir / f"{name}.report.json"
            try:
                write_json_atomic(report, path)
            except OSError as exc:
                if not is_disk_full(exc):
                    raise
                self.failure = exc  # the reports that fit are kept; raise_if_failed() says so
                continue
            files[f"report {name}"] = path
            reports.append(report)
            self.report_paths.append((record.spec, report, path))
        return reports

    def raise_if_failed(self) -> None:
        """After run(): one line saying what failed and what was still written, if anything failed."""
        if self.failure is None:
            return
        written = [str(path) for _, _, path in self.report_paths]
        note = f"Reports written: {', '.join(written)}." if written else "No report could be written."
        if is_disk_full(self.failure):
            raise disk_full_error(self.out_dir, None, note) from self.failure
        raise RunStopped(
            f"The session stopped: {self.failure}. {note} Run again with --debug for the details."
        ) from self.failure
