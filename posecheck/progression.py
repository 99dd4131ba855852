"""The program's progression: which exercises are mastered, unlocked or regressed, and what is next.

The article's rule above all: "focus on quality movements and not just progress to the next
exercise as quickly as you can". So:

* an exercise is **mastered** when its last `mastery_sessions` sessions each did the full dose
  with a quality score of at least `mastery_quality` (see posecheck/quality.py);
* a phase (ALIGN -> STABILIZE -> MAINTAIN) unlocks only when every exercise of the phase before
  it is mastered;
* a progression (`progression_of` in its spec: the march after the pelvic tilt, the double knee
  tuck after the march) unlocks only when the exercise it progresses from is mastered;
* a progression whose latest session scored below `regress_quality` is **regressed**: it is
  locked again, and the person goes back to the exercise it progresses from until that is
  mastered again (in sessions after the failed one), as the article says for the knee tuck.

Thresholds live in a TOML config file (`ProgramConfig`); every value has a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from posecheck.errors import UserError
from posecheck.history import History
from posecheck.spec import PHASES, ExerciseSpec

CONFIG_ENV = "POSECHECK_CONFIG"


@dataclass(frozen=True)
class ProgramConfig:
    mastery_quality: float = 80.0  # set score (0-100) a session needs to count toward mastery
    mastery_sessions: int = 2  # that many most recent sessions must each reach it
    regress_quality: float = 60.0  # a progression's latest session below this sends you back
    rest_between_sets_s: float = 30.0  # rest between exercises in a program session


def config_path() -> Path:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "posecheck" / "program.toml"


def load_config(path: Path | None = None) -> ProgramConfig:
    """The config file's values over the defaults; a missing file means all defaults."""
    path = Path(path) if path is not None else config_path()
    if not path.is_file():
        return ProgramConfig()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"Cannot read the program config {path}: {exc}") from exc
    known = {f.name: f.type for f in fields(ProgramConfig)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise UserError(f"{path}: unknown setting {key!r}; known: {', '.join(known)}")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise UserError(f"{path}: {key} must be a non-negative number, got {value!r}")
        values[key] = int(value) if key == "mastery_sessions" else float(value)
    return ProgramConfig(**values)


@dataclass
class ExerciseStatus:
    spec: ExerciseSpec
    sessions: int
    recent_scores: list[float]
    mastered: bool
    unlocked: bool
    regressed: bool
    needs: str  # what is still needed, in words


@dataclass
class ProgramStatus:
    exercises: dict[str, ExerciseStatus]
    current_phase: str
    next_exercise: str | None
    next_phase_needs: list[str]


def _mastered(sessions: list[dict], config: ProgramConfig) -> bool:
    recent = sessions[: config.mastery_sessions]
    return len(recent) >= config.mastery_sessions and all(
        s["full_dose"] and s["quality"] >= config.mastery_quality for s in recent
    )


def program_status(history: History, specs: dict[str, ExerciseSpec], config: ProgramConfig) -> ProgramStatus:
    """Where the person stands in the program, from their stored sessions."""
    # newest first; only real attempts count (a still image or a re-check never moves the program)
    by_exercise = {spec_id: history.sessions(spec_id, counting_only=True) for spec_id in specs}
    statuses: dict[str, ExerciseStatus] = {}
    for spec_id, spec in specs.items():
        sessions = by_exercise[spec_id]
        mastered = _mastered(sessions, config)
        regressed = False
        unlocked = True
        needs = ""
        base = spec.progression_of
        if base is not None and base in specs:
            base_sessions = by_exercise[base]
            failed = [s for s in sessions if s["quality"] < config.regress_quality]
            if sessions and sessions[0]["quality"] < config.regress_quality:
                regressed = True
                # only base sessions after the failed one count toward unlocking it again
                base_sessions = [s for s in base_sessions if s["created"] > failed[0]["created"]]
            unlocked = _mastered(base_sessions, config)
            if not unlocked:
                needs = f"master {specs[base].name} first" + (
                    " (regressed: quality fell)" if regressed else ""
                )
        if unlocked and not mastered:
            needs = (
                f"{config.mastery_sessions} sessions in a row with the full dose ({spec.dose.text}) "
                f"at quality {config.mastery_quality:g}+"
            )
        statuses[spec_id] = ExerciseStatus(
            spec=spec,
            sessions=len(sessions),
            recent_scores=[s["quality"] for s in sessions[: max(config.mastery_sessions, 3)]],
            mastered=mastered and unlocked,
            unlocked=unlocked,
            regressed=regressed,
            needs=needs,
        )
    for st in statuses.values():  # a regression sends the person back: the base must be mastered anew
        base = st.spec.progression_of
        if st.regressed and base in statuses and not st.unlocked:
            statuses[base].mastered = False
            again = f"master it again ({config.mastery_sessions} good full sessions)"
            statuses[base].needs = f"{again} before going back to {st.spec.name}"
    current = PHASES[-1]
    for phase in PHASES:
        if not all(st.mastered for st in statuses.values() if st.spec.phase == phase):
            current = phase
            break
    for st in statuses.values():  # a later phase stays locked until this one is mastered
        if PHASES.index(st.spec.phase) > PHASES.index(current):
            st.unlocked, st.mastered = False, False
            st.needs = f"finish the {current.upper()} phase first"
    in_phase = [st for st in statuses.values() if st.spec.phase == current]
    in_phase.sort(key=lambda st: st.spec.order)
    todo = [st for st in in_phase if st.unlocked and not st.mastered]
    next_exercise = todo[0].spec.id if todo else None
    needs = [f"{st.spec.name}: {st.needs or 'unlock it'}" for st in in_phase if not st.mastered]
    return ProgramStatus(statuses, current, next_exercise, needs)
