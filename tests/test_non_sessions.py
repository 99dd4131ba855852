"""Only real attempts move the program; the history can delete and import sessions and says what
really went wrong with its database."""

from __future__ import annotations

import copy
import datetime as dt
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from posecheck.engine import CheckResult, Rep
from posecheck.errors import UserError
from posecheck.history import MIGRATIONS, SCHEMA_VERSION, History
from posecheck.progression import ProgramConfig, program_status
from posecheck.report import RunInfo, build_report
from posecheck.session_counts import why_not_counted
from posecheck.spec import get_spec, load_specs

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_videos" / "bridge_side_demo.mp4"
BRIDGE_TOML = ROOT / "exercise_specs" / "segmental_bridge.toml"
START = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def perfect_report(spec, day: int = 0, frames: int = 3000, fps: float = 30.0) -> dict:
    """A session with the program's full dose, every rep good, counting started at 1 s."""
    hold = (spec.dose.hold_s[0] + 1.0) if spec.dose.hold_s else 0.0
    reps = [Rep(i, "left", 20.0 * i, 20.0 * i + hold + 4.0, hold_s=hold) for i in range(spec.dose.reps[0])]
    result = CheckResult(reps, [], [], frames, 0, 0, 1.0)
    report = build_report(spec, result, RunInfo("clip.mp4", frames, fps, (640, 480), None, "auto"), "left")
    report["created"] = (START + dt.timedelta(days=day)).isoformat(timespec="seconds")
    return report


def empty_report(spec, frames: int, day: int, **changes) -> dict:
    """A report with no reps (quality 0), e.g. of a still image."""
    result = CheckResult([], [], [], frames, changes.pop("not_visible", 0), 0, changes.pop("started", None))
    fps = changes.pop("fps", 30.0)
    report = build_report(spec, result, RunInfo("x.mp4", frames, fps, (640, 480), None, "auto"), "left")
    report["created"] = (START + dt.timedelta(days=day)).isoformat(timespec="seconds")
    report.update(changes)
    return report


@pytest.fixture
def bridge():
    return get_spec("segmental_bridge")


def test_a_real_attempt_counts(bridge):
    assert why_not_counted(perfect_report(bridge)) is None


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s: empty_report(s, frames=1, day=0, started=None), "too short (0.0 s"),
        (lambda s: empty_report(s, frames=20, day=0, started=0.1), "too short (0.7 s"),  # Ctrl-C at once
        (lambda s: empty_report(s, frames=300, day=0, not_visible=300), "nobody was seen"),
        (lambda s: empty_report(s, frames=300, day=0), "counting never started"),
        (lambda s: {**perfect_report(s), "model": {"cached_landmarks": "x.npz"}}, "re-check of saved"),
        (lambda s: {**perfect_report(s), "stopped_by": "error"}, "stopped on an error"),
    ],
)
def test_non_sessions_do_not_count(bridge, make, reason):
    assert reason in why_not_counted(make(bridge))


def test_a_user_spec_replacing_a_builtin_does_not_count_but_a_new_exercise_would(bridge, tmp_path):
    report = perfect_report(bridge)
    assert report["exercise"]["spec_file"] == str(BRIDGE_TOML)  # the built-in one counts
    replaced = copy.deepcopy(report)
    replaced["exercise"]["spec_file"] = str(tmp_path / "segmental_bridge.toml")
    assert "your own spec file" in why_not_counted(replaced)
    new_id = copy.deepcopy(replaced)
    new_id["exercise"]["id"] = "my_bridge"
    assert why_not_counted(new_id) is None  # not in the program, so it cannot move it anyway


def test_a_non_session_never_undoes_mastery(tmp_path):
    specs, tilt = load_specs(), get_spec("pelvic_tilt")  # the first exercise: nothing locks it
    with History(tmp_path / "h.sqlite3") as store:
        store.add_session(perfect_report(tilt, day=0), "analyze")
        store.add_session(perfect_report(tilt, day=1), "analyze")
        assert program_status(store, specs, ProgramConfig()).exercises["pelvic_tilt"].mastered
        still = store.add_session(empty_report(tilt, frames=1, day=2), "analyze")  # a PNG renamed .mp4
        short = store.add_session(empty_report(tilt, frames=20, day=3, started=0.2), "live")
        status = program_status(store, specs, ProgramConfig()).exercises["pelvic_tilt"]
        assert status.mastered and status.sessions == 2
        stored = {s["id"]: s for s in store.sessions()}
        assert stored[still]["counts"] == 0 and "too short" in stored[still]["not_counted_because"]
        assert stored[short]["counts"] == 0 and len(stored) == 4  # kept, listed, not counted


def test_sessions_stored_before_the_rule_are_judged_on_upgrade(tmp_path, bridge):
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[1]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    for report in (perfect_report(bridge), empty_report(bridge, frames=1, day=1)):
        db.execute(
            "INSERT INTO sessions (created, kind, exercise_id, phase, source, reps, good_reps, quality,"
            " full_dose, complete, report_json) VALUES (?, 'analyze', ?, 'stabilize', 'x', 0, 0, 0, 0, 1, ?)",
            (report["created"], bridge.id, json.dumps(report)),
        )
    db.close()
    with History(path) as store:
        rows = sorted((s["id"], s["counts"]) for s in store.sessions())
    assert rows == [(1, 1), (2, 0)]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


# --- the database: concurrency and honest messages ------------------------------------------


def _open_together(path: str, barrier) -> None:
    barrier.wait()
    try:
        History(Path(path)).close()
    except UserError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from exc


def test_several_processes_starting_on_a_fresh_folder_create_the_schema_once(tmp_path):
    path = tmp_path / "fresh" / "history.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(8)
    processes = [ctx.Process(target=_open_together, args=(str(path), barrier)) for _ in range(8)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * 8
    with History(path) as store:
        assert store.sessions() == []


def test_a_folder_in_place_of_the_database_is_not_called_damaged(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.mkdir()
    with pytest.raises(UserError, match="is a folder") as caught:
        History(path)
    assert "damaged" not in str(caught.value)


def test_an_unknown_sqlite_error_is_not_called_damaged(tmp_path):
    with History(tmp_path / "h.sqlite3") as store:
        message = str(store._explain(sqlite3.OperationalError("table sessions already exists")))
    assert "damaged" not in message and "table sessions already exists" in message


# --- the history command -------------------------------------------------------------------


def run_cli(*args, env, input=None):
    return subprocess.run(
        [sys.executable, "-m", "posecheck.cli", *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, input=input,
    )  # fmt: skip


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "POSECHECK_DATA_DIR": str(tmp_path / "data")}


def _store(env, *reports) -> list[int]:
    with History(Path(env["POSECHECK_DATA_DIR"]) / "history.sqlite3") as store:
        return [store.add_session(r, "analyze") for r in reports]


def _ids(env) -> list[int]:
    with History(Path(env["POSECHECK_DATA_DIR"]) / "history.sqlite3") as store:
        return sorted(s["id"] for s in store.sessions())


def test_history_delete_asks_first(env, bridge):
    _store(env, perfect_report(bridge, day=0), empty_report(bridge, frames=1, day=1))
    listed = run_cli("history", env=env)
    assert "Session 2 does not count toward progression: too short" in listed.stdout
    kept = run_cli("history", "--delete", "2", env=env, input="n\n")
    assert kept.returncode == 0 and "Nothing deleted" in kept.stdout and _ids(env) == [1, 2]
    gone = run_cli("history", "--delete", "2", env=env, input="y\n")
    assert gone.returncode == 0 and "Deleted session 2" in gone.stdout and _ids(env) == [1]
    missing = run_cli("history", "--delete", "7", "--yes", env=env)
    assert missing.returncode == 2 and "No session 7" in missing.stderr and "Traceback" not in missing.stderr


def test_history_import_adds_a_kept_report_once(env, bridge, tmp_path):
    report_path = tmp_path / "clip.report.json"
    report_path.write_text(json.dumps(perfect_report(bridge)))
    added = run_cli("history", "--import", str(report_path), env=env)
    assert added.returncode == 0 and "Added as session 1." in added.stdout, added.stderr
    again = run_cli("history", "--import", str(report_path), env=env)
    assert again.returncode == 2 and "already in the history as session 1" in again.stderr
    (tmp_path / "junk.json").write_text('{"hello": 1}')
    junk = run_cli("history", "--import", str(tmp_path / "junk.json"), env=env)
    assert junk.returncode == 2 and "not a posecheck session report" in junk.stderr
    assert "Traceback" not in again.stderr + junk.stderr and _ids(env) == [1]


@pytest.mark.parametrize("where", ["missing/folder/h.csv", "h.json/inside.json"])
def test_history_export_to_a_place_that_cannot_be_written(env, bridge, tmp_path, where):
    _store(env, perfect_report(bridge))
    (tmp_path / "h.json").write_text("a file, not a folder")
    result = run_cli("history", "--export", str(tmp_path / where), env=env)
    assert result.returncode == 2 and "Cannot export" in result.stderr and "Traceback" not in result.stderr


def test_report_of_a_session_made_with_a_user_spec(env, tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    text = BRIDGE_TOML.read_text().replace('id = "segmental_bridge"', 'id = "my_bridge"')
    (folder / "my_bridge.toml").write_text(text)
    spec = get_spec("my_bridge", [folder])
    [session] = _store(env, perfect_report(spec))
    made = run_cli("report", str(session), "--out", str(tmp_path / "r.html"), env=env)
    assert made.returncode == 0 and (tmp_path / "r.html").is_file(), made.stderr
    (folder / "my_bridge.toml").unlink()
    gone = run_cli("report", str(session), "--out", str(tmp_path / "r2.html"), env=env)
    assert gone.returncode == 2 and "--spec" in gone.stderr and "Traceback" not in gone.stderr


@pytest.mark.e2e
def test_a_still_image_renamed_mp4_is_stored_as_not_counting(env, tmp_path):
    capture = cv2.VideoCapture(str(DEMO))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 200)
    ok, image = capture.read()
    capture.release()
    assert ok
    png = tmp_path / "photo.png"
    cv2.imwrite(str(png), image)
    clip = png.rename(tmp_path / "photo.mp4")
    tilt = get_spec("pelvic_tilt")
    _store(env, perfect_report(tilt, day=0), perfect_report(tilt, day=1))
    result = run_cli("analyze", str(clip), "-e", "pelvic_tilt", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr
    with History(Path(env["POSECHECK_DATA_DIR"]) / "history.sqlite3") as store:
        newest = store.sessions()[0]
        assert newest["counts"] == 0 and "too short" in newest["not_counted_because"]
        assert program_status(store, load_specs(), ProgramConfig()).exercises["pelvic_tilt"].mastered


def test_a_session_the_busy_database_could_not_take_can_be_imported_later(tmp_path, monkeypatch):
    from posecheck import session_record

    monkeypatch.setenv("POSECHECK_DATA_DIR", str(tmp_path / "data"))
    History().close()
    blocker = sqlite3.connect(tmp_path / "data" / "history.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(session_record, "History", lambda: History(timeout_s=0.2))
    report = perfect_report(get_spec("pelvic_tilt"))
    report_path = tmp_path / "clip.report.json"
    report_path.write_text(json.dumps(report))
    try:
        recorded = session_record.record_and_render(
            get_spec("pelvic_tilt"), report, {"report": report_path}, "analyze"
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert recorded.session_id is None and "busy" in recorded.history_problem
    assert f"posecheck history --import {report_path}" in recorded.history_problem
    with History() as store:
        assert store.import_report(report_path) == 1
