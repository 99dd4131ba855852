"""The trainer: quality scores, progression gating on stored histories, and the history database."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from posecheck.engine import CheckResult, FaultEvent, Rep
from posecheck.errors import UserError
from posecheck.history import SCHEMA_VERSION, History
from posecheck.progression import ProgramConfig, load_config, program_status
from posecheck.quality import rep_quality, set_quality
from posecheck.report import RunInfo, build_report
from posecheck.spec import PHASES, load_specs, parse_spec

ROOT = Path(__file__).resolve().parents[1]
START = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def make_spec(spec_id: str, phase: str, order: int, reps: int = 3, hold=None, progression_of=None):
    data = {
        "id": spec_id, "name": spec_id.replace("_", " ").title(), "phase": phase, "order": order,
        "view": "side", "summary": "s", "cues": ["c"], "not_checked": [], "visible": ["hip"],
        "dose": {"reps": reps, **({"hold_s": hold} if hold else {})},
        "metrics": {"lift": {"fn": "height", "points": ["hip", "knee"]}},
        "reps": {"metric": "lift", "rest_below": 0.1, "active_above": 0.3},
        "rules": [{"id": "wobble", "message": "Keep still", "metric": "lift", "above": 5}],
    }  # fmt: skip
    if progression_of:
        data["progression_of"] = progression_of
    return parse_spec(data, Path(f"{spec_id}.toml"))


SPECS = {
    s.id: s
    for s in [
        make_spec("tilt", "align", 1),
        make_spec("march", "align", 2, progression_of="tilt"),
        make_spec("tuck", "align", 3, progression_of="march"),
        make_spec("bridge", "stabilize", 1, hold=[5, 10]),
        make_spec("hinge", "maintain", 1),
    ]
}


def fake_report(spec, good: int, faulty: int = 0, day: int = 0, hold_s: float = 6.0) -> dict:
    """A report of `good` clean reps and `faulty` reps with a fault lasting the whole rep."""
    reps = []
    for i in range(good + faulty):
        rep = Rep(i, "left", 10.0 * i, 10.0 * i + 8.0, hold_s=hold_s)
        if i >= good:
            rep.faults.append(FaultEvent("wobble", "Keep still", "fault", rep.start_t, rep.end_t, i))
        reps.append(rep)
    result = CheckResult(reps, [], [], 300, 0, 0, 1.0)
    report = build_report(spec, result, RunInfo("clip.mp4", 300, 30.0, (640, 480), None, "auto"), "left")
    report["created"] = (START + dt.timedelta(days=day)).isoformat(timespec="seconds")
    return report


# --- quality -----------------------------------------------------------------------------------


def test_rep_quality_formula():
    clean = {"start_s": 0.0, "end_s": 10.0, "hold_s": 6.0, "faults": []}
    assert rep_quality(clean, 5.0) == 100.0
    half_fault = {**clean, "faults": [{"rule": "x", "severity": "fault", "start_s": 0.0, "end_s": 5.0}]}
    assert rep_quality(half_fault, 5.0) == pytest.approx(100 - 30 - 40 * 0.5)
    short = {
        **clean,
        "hold_s": 2.5,
        "faults": [{"rule": "hold_short", "severity": "fault", "start_s": 0, "end_s": 10}],
    }
    assert rep_quality(short, 5.0) == pytest.approx(100 - 50 * 0.5)
    warning = {**clean, "faults": [{"rule": "w", "severity": "warning", "start_s": 0.0, "end_s": 1.0}]}
    assert rep_quality(warning, None) == 90.0
    many = {
        **clean,
        "faults": [{"rule": f"r{i}", "severity": "fault", "start_s": 0, "end_s": 10} for i in range(3)],
    }
    assert rep_quality(many, None) == 0.0


def test_set_quality_weighs_the_share_of_the_dose_done():
    full = set_quality(fake_report(SPECS["tilt"], good=3))
    assert full["score"] == 100.0 and full["full_dose"]
    partial = set_quality(fake_report(SPECS["tilt"], good=1))
    assert partial["score"] == pytest.approx(100 / 3, abs=0.1) and not partial["full_dose"]
    mixed = set_quality(fake_report(SPECS["tilt"], good=2, faulty=1))
    assert mixed["score"] == pytest.approx((100 + 100 + 30) / 3, abs=0.1)


# --- progression -------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path):
    with History(tmp_path / "history.sqlite3") as store:
        yield store


def add(history, spec_id, good, faulty=0, day=0):
    history.add_session(fake_report(SPECS[spec_id], good, faulty, day), "program")


def test_new_person_starts_at_align_with_the_pelvic_tilt(history):
    status = program_status(history, SPECS, ProgramConfig())
    assert status.current_phase == "align"
    assert status.next_exercise == "tilt"
    assert status.exercises["march"].unlocked is False  # progressions wait for the tilt
    assert status.exercises["bridge"].unlocked is False  # later phases are locked


def test_mastery_needs_consecutive_good_full_dose_sessions(history):
    config = ProgramConfig(mastery_quality=80, mastery_sessions=2)
    add(history, "tilt", good=3, day=0)
    assert not program_status(history, SPECS, config).exercises["tilt"].mastered  # one session
    add(history, "tilt", good=2, day=1)  # not the full dose
    assert not program_status(history, SPECS, config).exercises["tilt"].mastered
    add(history, "tilt", good=3, day=2)
    add(history, "tilt", good=3, day=3)
    status = program_status(history, SPECS, config)
    assert status.exercises["tilt"].mastered
    assert status.exercises["march"].unlocked and not status.exercises["tuck"].unlocked
    assert status.next_exercise == "march"


def test_phase_unlocks_only_when_all_of_it_is_mastered(history):
    for spec_id in ("tilt", "march"):
        for day in range(2):
            add(history, spec_id, good=3, day=day)
    assert program_status(history, SPECS, ProgramConfig()).current_phase == "align"
    for day in range(2):
        add(history, "tuck", good=3, day=day + 5)
    status = program_status(history, SPECS, ProgramConfig())
    assert status.current_phase == "stabilize" and status.next_exercise == "bridge"
    assert status.exercises["bridge"].unlocked and not status.exercises["hinge"].unlocked


def test_poor_knee_tuck_regresses_to_the_march(history):
    for spec_id in ("tilt", "march"):
        for day in range(2):
            add(history, spec_id, good=3, day=day)
    add(history, "tuck", good=3, day=3)
    add(history, "tuck", good=0, faulty=3, day=4)  # quality 30/100 < regress_quality 60
    status = program_status(history, SPECS, ProgramConfig())
    tuck = status.exercises["tuck"]
    assert tuck.regressed and not tuck.unlocked and "March" in tuck.needs
    # the march's earlier mastery does not count: it must be mastered again after the failure
    assert not status.exercises["march"].mastered and status.next_exercise == "march"
    assert status.current_phase == "align"
    for day in (5, 6):
        add(history, "march", good=3, day=day)
    status = program_status(history, SPECS, ProgramConfig())
    assert status.exercises["tuck"].unlocked and status.exercises["tuck"].regressed
    assert status.exercises["march"].mastered and status.next_exercise == "tuck"


def test_config_file_overrides_defaults_and_rejects_nonsense(tmp_path):
    path = tmp_path / "program.toml"
    path.write_text("mastery_quality = 90\nmastery_sessions = 3\n")
    config = load_config(path)
    assert config.mastery_quality == 90 and config.mastery_sessions == 3 and config.regress_quality == 60
    path.write_text("mastery_qualty = 90\n")
    with pytest.raises(UserError, match="unknown setting 'mastery_qualty'"):
        load_config(path)
    path.write_text("rest_between_sets_s = -3\n")
    with pytest.raises(UserError, match="non-negative"):
        load_config(path)
    assert load_config(tmp_path / "absent.toml") == ProgramConfig()


# --- the database ------------------------------------------------------------------------------


def test_schema_is_versioned_and_sessions_round_trip(history, tmp_path):
    report = fake_report(SPECS["bridge"], good=2, faulty=1)
    session_id = history.add_session(report, "analyze", {"annotated video": "/x.mp4"})
    stored = history.session(session_id)
    assert stored["report"] == report and stored["artifacts"] == {"annotated video": "/x.mp4"}
    assert [r["faults"] for r in history.reps(session_id)] == ["", "", "wobble"]
    version = sqlite3.connect(history.path).execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION


def _write_then_die(path: str) -> None:
    """Begin storing a session and die (no commit, no clean-up), like a crash or a power cut."""
    import os

    store = History(Path(path))
    db = store._db
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO sessions (created, kind, exercise_id, phase, source, reps, good_reps, quality,"
        " full_dose, complete, report_json)"
        " VALUES ('2026-11-30', 'live', 'tilt', 'align', 'x', 1, 1, 100, 1, 1, '{}')"
    )
    os._exit(1)


def test_a_crash_mid_write_leaves_no_half_session(history):
    add(history, "tilt", good=3)
    process = multiprocessing.get_context("spawn").Process(target=_write_then_die, args=(str(history.path),))
    process.start()
    process.join(30)
    assert process.exitcode == 1
    with History(history.path) as again:
        sessions = again.sessions()
        assert len(sessions) == 1 and sessions[0]["exercise_id"] == "tilt"
        again.add_session(fake_report(SPECS["tilt"], 3), "live")  # still writable
        assert len(again.sessions()) == 2


def test_an_error_inside_the_transaction_rolls_back(history):
    report = fake_report(SPECS["tilt"], good=3)
    report["reps"][1]["side"] = None  # NOT NULL: fails after the session row was inserted
    with pytest.raises(UserError):
        history.add_session(report, "live")
    assert history.sessions() == []


def _writer(path: str, n: int) -> None:
    with History(Path(path), timeout_s=30) as store:
        for i in range(n):
            store.add_session(fake_report(SPECS["tilt"], good=3, day=i), "live")


def test_concurrent_writers_both_land(tmp_path):
    path = tmp_path / "history.sqlite3"
    History(path).close()
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(path), 15)) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    assert [w.exitcode for w in writers] == [0, 0]
    with History(path) as store:
        assert len(store.sessions()) == 30


def test_a_damaged_database_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(UserError, match="damaged.*earlier sessions are still in that file"):
        History(path)
    assert path.read_bytes() == before


def test_a_busy_database_says_so(tmp_path):
    path = tmp_path / "history.sqlite3"
    History(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with History(path, timeout_s=0.2) as store, pytest.raises(UserError, match="busy"):
            store.add_session(fake_report(SPECS["tilt"], 3), "live")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(UserError, match="newer posecheck"):
        History(path)


def test_export_csv_and_json(history, tmp_path):
    add(history, "tilt", good=2, faulty=1)
    add(history, "bridge", good=1, day=1)
    rows = (history.export(tmp_path / "h.csv")).read_text().splitlines()
    assert rows[0].startswith("session,created,kind,exercise") and len(rows) == 1 + 3 + 1
    data = json.loads(history.export(tmp_path / "h.json").read_text())
    assert [s["exercise_id"] for s in data] == ["tilt", "bridge"] and len(data[0]["reps"]) == 3
    with pytest.raises(UserError, match=r"\.csv or \.json"):
        history.export(tmp_path / "h.xlsx")


# --- through the command line ------------------------------------------------------------------


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "posecheck.cli", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_history_and_status_commands_on_an_empty_history():
    result = run_cli("history")
    assert result.returncode == 0 and "No sessions yet" in result.stdout
    status = run_cli("program", "--status")
    first_phase = next(iter(load_specs().values())).phase.upper()  # a new person starts at the first phase
    assert status.returncode == 0 and f"Current phase: {first_phase}" in status.stdout


def test_report_of_an_unknown_session():
    result = run_cli("report", "999")
    assert result.returncode == 2 and "No session 999" in result.stderr


def mastered_report(spec, day: int) -> dict:
    """A perfect session with the program's full dose for any spec (both sides where it counts per side)."""
    sides = ["left", "right"] if spec.dose.per_side or spec.dose.alternating else ["left"]
    hold = (spec.dose.hold_s[0] + 1.0) if spec.dose.hold_s else 0.0
    reps = [
        Rep(i, sides[i % len(sides)], 40.0 * i, 40.0 * i + hold + 4.0, hold_s=hold)
        for i in range(spec.dose.reps[0] * len(sides))
    ]
    result = CheckResult(reps, [], [], 1000, 0, 0, 1.0)
    report = build_report(spec, result, RunInfo("camera 0", 1000, 30.0, (640, 480), None, "auto"), "left")
    report["created"] = (START + dt.timedelta(days=day)).isoformat(timespec="seconds")
    return report


@pytest.mark.e2e
def test_program_session_runs_the_next_exercise_and_records_it(tmp_path):
    import os

    specs = load_specs()
    bridge = specs["segmental_bridge"]
    with History() as store:  # everything before the bridge in the program is mastered
        for spec in specs.values():
            if (PHASES.index(spec.phase), spec.order) < (PHASES.index(bridge.phase), bridge.order):
                for day in range(2):
                    store.add_session(mastered_report(spec, day), "program")
    status = run_cli("program", "--status")
    assert "Current phase: STABILIZE" in status.stdout and "Next exercise: Segmental bridge" in status.stdout
    demo = ROOT / "sample_videos" / "bridge_side_demo.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "posecheck.cli", "program", "--camera", str(demo), "--headless", "--out",
         str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with History() as store:
        latest = store.sessions(limit=1)[0]
    assert latest["kind"] == "program" and latest["exercise_id"] == "segmental_bridge"
    assert latest["reps"] == 3 and latest["good_reps"] == 2 and not latest["full_dose"]
    assert (tmp_path / "out" / "segmental_bridge.report.html").is_file()
