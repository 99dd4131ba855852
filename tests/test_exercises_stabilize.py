"""The STABILIZE exercises on their real specs, filmed with the stick figure.

For every exercise of the program's STABILIZE phase (the six new specs and the bird dog and
plank specs tuned on rendered clips):

1. the program's full dose done cleanly, after getting into position with some fidgeting, gives
   exactly the program's count (per side where the program counts per side), all good;
2. one rep per form rule breaks exactly that rule (the reps around it stay clean);
3. pixel noise and a dropout shorter than the engine's `DROPOUT_S` do not change the count;
4. other camera sides, body sizes and views give the same count.

Each exercise is a `Drill`: how to get into position and how to do one rep (clean or with one
fault) on a given side, built from the stick figure's ready-made postures. Limb directions are
absolute sagittal angles (see stickfigure's docstring): `leg(pose, side, thigh, knee)` places a
leg by its thigh direction and knee angle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from stickfigure import (
    DEFAULT_BODY,
    Body,
    Pose,
    Timeline,
    kneeling_on_heels,
    prone,
    prone_on_elbows_knees,
    quadruped,
    sequence,
    standing,
    still,
    supine,
    supine_knees_bent,
)

from posecheck.engine import DROPOUT_S, CheckResult
from posecheck.spec import ExerciseSpec, load_spec

SPEC_DIR = Path(__file__).resolve().parents[1] / "exercise_specs"
B = DEFAULT_BODY
HOLD_TOLERANCE_S = 0.5  # the specs' dose.hold_tolerance_s: the slack the engine gives a hold


def other(side: str) -> str:
    return "right" if side == "left" else "left"


def leg(pose: Pose, side: str, thigh: float, knee: float = 90.0) -> Pose:
    """`side`'s leg placed by angles (no planted foot): thigh direction `thigh` (degrees, absolute)
    and knee angle `knee` (180 = straight; the knee bends the natural way)."""
    return pose.with_(
        **{f"{side}_thigh": thigh, f"{side}_shin": thigh - 180.0 + knee, f"{side}_foot_at": None}
    )


def leg_of(pose: Pose, side: str, source: Pose) -> Pose:
    """`pose` with `side`'s leg as it is in `source`."""
    return pose.with_(**{f"{side}_{f}": getattr(source, f"{side}_{f}") for f in ("thigh", "shin", "foot_at")})


@cache
def spec_of(spec_id: str) -> ExerciseSpec:
    return load_spec(SPEC_DIR / f"{spec_id}.toml")


# --- tabletop hold: on the back, both knees lifted above the hips ------------------------------------

BENT = supine_knees_bent()  # on the back, knees bent, feet flat
TABLETOP = leg(leg(BENT, "left", 90.0), "right", 90.0)  # thighs vertical, knees 90 degrees, shins level


def tabletop(thigh: float = 90.0, knee: float = 90.0) -> Pose:
    return leg(leg(BENT, "left", thigh, knee), "right", thigh, knee)


TABLETOP_TOPS = {
    None: TABLETOP,
    "hold_short": TABLETOP,
    "knees_not_over_hips": tabletop(thigh=63.0, knee=112.0),  # thighs 27 deg toward the feet, shins level
    "knees_toward_chest": tabletop(thigh=125.0),  # thighs 35 deg toward the chest
    "shins_not_level": tabletop(knee=140.0),  # knees half straightened
    "one_leg_low": leg(leg(BENT, "left", 90.0), "right", 55.0),  # the right knee only half way up
}


def tabletop_lead_in() -> Timeline:
    return Timeline(supine()).hold(0.5).to(BENT, 1.5).fidget(2.0).hold(1.5)  # lie down, bend the knees


def tabletop_rep(tl: Timeline, side: str, fault: str | None) -> None:
    """Left foot up, right foot up, hold, left foot down, right foot down (the program's order)."""
    top = TABLETOP_TOPS[fault]
    hold = 2.0 if fault == "hold_short" else 6.0
    tl.to(leg(BENT, "left", 90.0), 1.0).to(top, 1.0).hold(hold)
    tl.to(leg_of(top, "left", BENT), 1.0).to(BENT, 1.0).hold(1.5)


# --- dead bug: from the tabletop, straighten one leg at a time ------------------------------------------


def dead_bug_lead_in() -> Timeline:
    tl = Timeline(BENT).fidget(1.5).hold(0.5)
    return tl.to(leg(BENT, "left", 90.0), 1.0).to(TABLETOP, 1.0).fidget(1.5, amount=0.01).hold(1.5)


def dead_bug_rep(tl: Timeline, side: str, fault: str | None) -> None:
    straight = leg(TABLETOP, side, 28.0, knee=148.0 if fault == "leg_not_straight" else 180.0)
    if fault == "other_knee_drift":
        straight = leg(straight, other(side), 55.0)  # the resting knee tips 35 degrees toward the feet
    if fault == "other_leg_moves":  # the other knee straightens too, then both come back
        both = leg(straight, other(side), 90.0, knee=150.0)
        tl.to(straight, 1.5).to(both, 1.0).hold(0.8).to(straight, 1.0).to(TABLETOP, 1.5).hold(0.8)
        return
    tl.to(straight, 1.5).hold(0.5).to(TABLETOP, 1.5).hold(0.8)


# --- on all fours: donkey kick and bird dog -------------------------------------------------------------

FOURS = quadruped()  # hands and knees planted
DK_FOURS = leg(leg(FOURS, "left", -90.0), "right", -90.0)  # the same, legs placed by angles (free to lift)


def knee_back(side: str, lift: float, knee: float = 90.0) -> Pose:
    """Donkey kick: `side`'s thigh swung back `lift` degrees from vertical (90 = knee level with
    the hip), knee bent to `knee`."""
    return leg(DK_FOURS, side, -90.0 - lift, knee)


DK_HOVER = 20.0  # degrees: between reps the knee hovers just off the floor
DK_TOPS = {None: 90.0, "knee_low": 68.0, "knee_high": 115.0, "knee_not_bent_90": 90.0}


def fours_lead_in(start: Pose) -> Callable[[], Timeline]:
    def lead_in() -> Timeline:
        rocked_back = start.nudged(pelvis_x=-0.12, pelvis_y=-0.06, trunk=-8.0)
        return Timeline(rocked_back).hold(0.5).to(start, 1.2).fidget(2.0).hold(1.5)

    return lead_in


def donkey_kick_rep(tl: Timeline, side: str, fault: str | None) -> None:
    hover = knee_back(side, DK_HOVER)
    if tl.pose != hover:  # first rep on this side: from the knee on the floor
        tl.to(DK_FOURS, 1.0).hold(1.0).to(hover, 0.8)
    top = knee_back(side, DK_TOPS[fault], knee=150.0 if fault == "knee_not_bent_90" else 90.0)
    tl.to(top, 1.0).hold(0.3).to(hover, 1.0).hold(0.3)


def donkey_kick_finish(tl: Timeline) -> None:
    tl.to(DK_FOURS, 1.0).hold(1.5)  # knee down at the end of the set


def reach(side: str, leg_dir: float = 180.0, arm_dir: float = 0.0, base: Pose = FOURS) -> Pose:
    """Bird dog: `side`'s leg straight back (180 = level) and the other arm straight forward (0 = level)."""
    arm = other(side)
    return leg(base, side, leg_dir, knee=180.0).with_(
        **{f"{arm}_upper_arm": arm_dir, f"{arm}_forearm": arm_dir, f"{arm}_hand_at": None}
    )


BIRD_DOG_TOPS = {
    None: {},
    "hold_short": {},
    "leg_high": {"leg_dir": 155.0},  # 25 degrees above level
    "leg_low": {"leg_dir": 192.0},  # 12 degrees below level (see LEG_LOW_WINDOW below)
    "arm_high": {"arm_dir": 30.0},
    "arm_low": {"arm_dir": -30.0},
    "back_sag": {"base": FOURS.raise_pelvis(-0.12)},  # the hips drop 12 cm, hand and knee stay planted
}


def bird_dog_rep(tl: Timeline, side: str, fault: str | None) -> None:
    base = BIRD_DOG_TOPS[fault].get("base", FOURS)
    top = reach(side, **BIRD_DOG_TOPS[fault])
    tl.to(top, 1.5).hold(2.0 if fault == "hold_short" else 6.0).to(base, 1.0).to(FOURS, 0.5).hold(1.5)


# --- plank on elbows and knees ----------------------------------------------------------------------------

PLANK = prone_on_elbows_knees()  # forearms and knees down, lower legs on the floor
PLANK_HOLD_S = 32.0


def plank_hips(pose: Pose, degrees: float) -> Pose:
    """The hips moved about the planted knees (thighs turned by `degrees`: + pikes, - sags), the
    trunk re-aimed at the shoulders, the knee angle kept."""
    hip = np.array([pose.pelvis_x, pose.pelvis_y])
    th, tr = np.radians(pose.left_thigh), np.radians(pose.trunk)
    knee = hip + B.thigh * np.array([np.cos(th), np.sin(th)])
    shoulder = hip + B.torso * np.array([np.cos(tr), np.sin(tr)])
    th2 = th + np.radians(degrees)
    hip2 = knee - B.thigh * np.array([np.cos(th2), np.sin(th2)])
    trunk = float(np.degrees(np.arctan2(*(shoulder - hip2)[::-1])))
    return pose.with_(
        pelvis_x=float(hip2[0]),
        pelvis_y=float(hip2[1]),
        trunk=trunk,
        neck=-trunk,
        thigh=pose.left_thigh + degrees,
        shin=pose.left_shin + degrees,
    )


PLANK_UP = PLANK.with_(shin=PLANK.left_thigh - 180.0 + 95.0)  # lower legs raised, knees at 95 degrees


def plank_lead_in() -> Timeline:
    return Timeline(prone()).hold(0.5).fidget(2.0).hold(1.5)  # lying face down, the start position


def plank_rep(tl: Timeline, side: str, fault: str | None) -> None:
    """From lying face down up onto the forearms and knees, lower legs raised; held; back down."""
    if fault in ("hips_sag", "hips_pike"):  # a good plank for 8 s, then the hips drop (or pike)
        bad = plank_hips(PLANK_UP, -12.0 if fault == "hips_sag" else 12.0)
        tl.to(PLANK_UP, 2.0).hold(8.0).to(bad, 1.5).hold(PLANK_HOLD_S - 9.5).to(prone(), 2.0).hold(2.0)
        return
    top = PLANK if fault == "feet_down" else PLANK_UP  # feet_down: the lower legs left on the floor
    tl.to(top, 2.0).hold(4.0 if fault == "hold_short" else PLANK_HOLD_S).to(prone(), 2.0).hold(2.0)


# --- tall kneeling hip extension --------------------------------------------------------------------------

HEELS = kneeling_on_heels()
HEELS_THIGH = HEELS.left_thigh  # about -22: thighs sloping forward, buttocks on the heels
KNEE_X = B.thigh * float(np.cos(np.radians(HEELS_THIGH)))  # where the knees stay planted


def kneel(thigh: float, trunk: float = 90.0) -> Pose:
    """Kneeling with the knees planted, thighs at `thigh` (-90 = vertical: tall kneeling)."""
    a = np.radians(thigh)
    return HEELS.with_(
        pelvis_x=float(KNEE_X - B.thigh * np.cos(a)),
        pelvis_y=float(0.05 - B.thigh * np.sin(a)),
        thigh=thigh,
        trunk=trunk,
        foot_at=None,
    )


def kneel_move(tl: Timeline, thigh_to: float, seconds: float, steps: int = 4) -> Timeline:
    """Rise or sit back with the knees planted (in a few steps, so the hips follow the arc)."""
    thigh_from = tl.pose.left_thigh
    for i in range(1, steps + 1):
        tl.to(kneel(thigh_from + (thigh_to - thigh_from) * i / steps), seconds / steps)
    return tl


def tall_kneeling_lead_in() -> Timeline:
    tl = Timeline(kneel(-90.0)).hold(0.5)
    return kneel_move(tl, HEELS_THIGH, 1.5).fidget(2.0).hold(1.5)  # kneel up, sit back onto the heels


def tall_kneeling_rep(tl: Timeline, side: str, fault: str | None) -> None:
    top = -62.0 if fault == "hips_not_extended" else -90.0  # -62: hips still bent ~30 degrees
    kneel_move(tl, top, 1.5).hold(0.5)
    kneel_move(tl, HEELS_THIGH, 1.5).hold(1.0)


# --- multi-directional lunge ------------------------------------------------------------------------------

STAND = standing()
LUNGE_DIRECTIONS = ("forward", "forward_45", "side", "backward_45", "backward")


def lunge(direction: str, side: str, hip_y: float = 0.5, trunk: float = 90.0, neck: float = 0.0) -> Pose:
    """The bottom of a lunge with `side` stepping out. Forward/backward: front shin vertical, the
    front thigh level at hip_y = 0.5 (front knee 90 degrees), the back foot on its toes. The 45-degree
    lunges are these turned 45 degrees (the stick figure's `roll` turns an upright figure about the
    vertical). Side: `side`'s knee bent to about 90, the other leg straight out to the side."""
    stay = other(side)
    turn = 1.0 if side == "left" else -1.0  # toward the stepping side
    if direction == "side":
        out = 50.0  # the straight leg's angle out to the side
        pose = STAND.with_(
            pelvis_x=-0.1,
            pelvis_y=float(0.07 + (B.thigh + B.shin) * np.cos(np.radians(out))) + hip_y - 0.5,
            pelvis_z=turn * 0.35,
            trunk=100.0,  # the hips sit back a little
            **{f"{side}_thigh_out": 20.0, f"{side}_foot_at": (0.15, 0.07)},
            **{f"{stay}_thigh_out": out, f"{stay}_shin_out": out, f"{stay}_foot_at": None},
            **{f"{stay}_thigh": -90.0, f"{stay}_shin": -90.0},
        )
        return pose.with_(trunk=pose.trunk + trunk - 90.0, neck=neck)
    front, back = (side, stay) if direction.startswith("forward") else (stay, side)
    x_back = 0.0 if direction.startswith("forward") else -1.086  # the stance foot stays at x = 0
    pelvis_x = x_back + 0.636
    pose = STAND.with_(
        pelvis_x=pelvis_x,
        pelvis_y=hip_y,
        trunk=trunk,
        neck=neck,
        **{
            f"{front}_foot_at": (pelvis_x + B.thigh, 0.07),
            f"{back}_foot_at": (x_back, 0.12),
            f"{back}_foot": -30.0,
        },
    )
    if direction.endswith("_45"):
        pose = pose.with_(roll=45.0 * turn * (1.0 if direction.startswith("forward") else -1.0))
    return pose


LUNGE_FAULTS = {
    None: {},
    "not_deep_enough": {"hip_y": 0.68},  # front knee only to about 117 degrees
    "trunk_lean": {"trunk": 58.0, "neck": -32.0},  # leaning 32 degrees forward, still looking ahead
    "looking_down": {"neck": 35.0},  # chin toward the chest
}


def lunge_lead_in() -> Timeline:
    return Timeline(STAND.nudged(foot_at=(0.1, 0.0))).to(STAND, 0.8).fidget(2.0).hold(1.5)


def lunge_rep(tl: Timeline, side: str, fault: str | None, direction: str = "forward") -> None:
    tl.to(lunge(direction, side, **LUNGE_FAULTS[fault]), 1.5).hold(0.6).to(STAND, 1.5).hold(1.0)


def lunge_round(side: str) -> list[Move]:
    return [Move(side, variant=d) for d in LUNGE_DIRECTIONS]


# --- hip hinge with back extension ------------------------------------------------------------------------


def hinge(
    lean: float = 50.0, back: float = 0.12, drop: float = 0.02, arms: str = "back", head_up: bool = True
) -> Pose:
    """Hinged `lean` degrees forward, hips `back` m behind the feet and `drop` m lower (knees ~160),
    head up (the neck extended so the face looks ahead), arms reaching back / forward / hanging."""
    trunk = 90.0 - lean
    pose = STAND.with_(
        pelvis_x=-back, pelvis_y=STAND.pelvis_y - drop, trunk=trunk, neck=-lean if head_up else 0.0
    )
    arm_dir = {"back": trunk + 195.0, "forward": trunk - 10.0, "hang": -90.0}[arms]
    return pose.with_(upper_arm=arm_dir, forearm=arm_dir)


HINGE_FAULTS = {
    None: {},
    "hold_short": {},
    "looking_down": {"head_up": False},  # the head in line with the back: eyes on the floor
    "knees_too_bent": {"lean": 35.0, "back": 0.15, "drop": 0.25},  # a squat
    "knees_locked": {"back": 0.05, "drop": 0.0},
    "arms_half_way": {},
}


def hinge_lead_in() -> Timeline:
    return Timeline(STAND.nudged(foot_at=(0.08, 0.0))).to(STAND, 0.8).fidget(2.0).hold(1.5)


def hinge_rep(tl: Timeline, side: str, fault: str | None) -> None:
    """Hinge with the arms back, hold 10 s, arms forward and up, hold 10 s, stand up."""
    kw = HINGE_FAULTS[fault]
    hold = 4.0 if fault == "hold_short" else 10.0
    second = "hang" if fault == "arms_half_way" else "forward"
    tl.to(hinge(**kw), 2.0).hold(hold).to(hinge(arms=second, **kw), 1.5).hold(hold).to(STAND, 2.0).hold(1.5)


# --- the drills -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One rep of a session: the working side, a fault id (None = clean) and a variant (lunge direction)."""

    side: str
    fault: str | None = None
    variant: str | None = None


@dataclass(frozen=True)
class Drill:
    spec_id: str
    lead_in: Callable[[], Timeline]  # getting into position, ending still in the start posture
    rep: Callable[..., None]  # rep(timeline, side, fault[, variant]): one rep from the start posture
    dose: tuple[Move, ...]  # the program's full dose
    faults: tuple[str, ...]  # the fault ids `rep` can make, each breaking exactly that rule
    hold_s: float | None = None  # the hold each clean rep makes
    finish: Callable[[Timeline], object] = lambda tl: tl.hold(1.0)
    alternating: bool = False  # reps alternate sides (the fault rep is on the other side)
    by_side: bool = True  # whether the count per side is meaningful (the spec counts per side)
    variants: tuple[dict, ...] = field(default=())  # other ways of filming it, same count

    def session(self, moves: list[Move] | tuple[Move, ...]) -> Timeline:
        tl = self.lead_in()
        for move in moves:
            if move.variant is None:
                self.rep(tl, move.side, move.fault)
            else:
                self.rep(tl, move.side, move.fault, move.variant)
        self.finish(tl)
        return tl

    def three(self, fault: str | None = None) -> list[Move]:
        """A clean rep, a rep with `fault`, a clean rep."""
        sides = ("left", "right", "left") if self.alternating else ("right",) * 3
        return [Move(sides[0]), Move(sides[1], fault), Move(sides[2])]


def alternate(n_per_side: int) -> tuple[Move, ...]:
    return tuple(Move(side) for _ in range(n_per_side) for side in ("left", "right"))


def one_side_then_other(n_per_side: int) -> tuple[Move, ...]:
    return tuple(Move(side) for side in ("right", "left") for _ in range(n_per_side))


SIDE_RIGHT = {"camera_side": "right"}
SMALL = {"body": Body(scale=0.8)}
BIG_RIGHT = {"body": Body(scale=1.25), "camera_side": "right"}
THREE_QUARTER = {"view": "three_quarter"}
HIGH_CAMERA = {"elevation_deg": 15.0, "body": Body(scale=1.1)}

DRILLS = {
    d.spec_id: d
    for d in (
        Drill(
            "tabletop_hold",
            tabletop_lead_in,
            tabletop_rep,
            dose=(Move("left"),) * 10,
            faults=(
                "one_leg_low",
                "knees_not_over_hips",
                "knees_toward_chest",
                "shins_not_level",
                "hold_short",
            ),
            hold_s=6.0,
            by_side=False,
            variants=(SIDE_RIGHT, BIG_RIGHT, THREE_QUARTER, HIGH_CAMERA),
        ),
        Drill(
            "dead_bug",
            dead_bug_lead_in,
            dead_bug_rep,
            dose=alternate(5),
            faults=("leg_not_straight", "other_knee_drift", "other_leg_moves"),
            alternating=True,
            variants=(SIDE_RIGHT, SMALL, THREE_QUARTER),
        ),
        Drill(
            "donkey_kick",
            fours_lead_in(DK_FOURS),
            donkey_kick_rep,
            dose=one_side_then_other(10),
            faults=("knee_low", "knee_high", "knee_not_bent_90"),
            finish=donkey_kick_finish,
            variants=(SIDE_RIGHT, BIG_RIGHT, THREE_QUARTER, HIGH_CAMERA),
        ),
        Drill(
            "bird_dog",
            fours_lead_in(FOURS),
            bird_dog_rep,
            dose=alternate(10),
            faults=("leg_high", "leg_low", "arm_high", "arm_low", "back_sag", "hold_short"),
            hold_s=6.0,
            alternating=True,
            variants=(SIDE_RIGHT, SMALL, BIG_RIGHT),
        ),
        Drill(
            "plank_elbows_knees",
            plank_lead_in,
            plank_rep,
            dose=(Move("left"),) * 10,
            faults=("hips_sag", "hips_pike", "feet_down", "hold_short"),
            hold_s=PLANK_HOLD_S,
            by_side=False,
            variants=(SIDE_RIGHT, SMALL, BIG_RIGHT),
        ),
        Drill(
            "tall_kneeling_hip_extension",
            tall_kneeling_lead_in,
            tall_kneeling_rep,
            dose=(Move("left"),) * 15,
            faults=("hips_not_extended",),
            by_side=False,
            variants=(SIDE_RIGHT, BIG_RIGHT, THREE_QUARTER, HIGH_CAMERA),
        ),
        Drill(
            "multidirectional_lunge",
            lunge_lead_in,
            lunge_rep,
            dose=tuple(m for _ in range(5) for side in ("right", "left") for m in lunge_round(side)),
            faults=("not_deep_enough", "trunk_lean", "looking_down"),
            by_side=False,
            variants=(SIDE_RIGHT, BIG_RIGHT, THREE_QUARTER, {"view": "front"}, HIGH_CAMERA),
        ),
        Drill(
            "hip_hinge_back_extension",
            hinge_lead_in,
            hinge_rep,
            dose=(Move("left"),) * 10,
            faults=("looking_down", "knees_too_bent", "knees_locked", "arms_half_way", "hold_short"),
            hold_s=21.5,  # 10 s + the arms moving forward (the hinge stays still) + 10 s
            by_side=False,
            variants=(SIDE_RIGHT, SMALL, BIG_RIGHT),
        ),
    )
}


def fault_ids(result: CheckResult) -> list[list[str]]:
    return [sorted(f.rule for f in rep.faults) for rep in result.reps]


def check(spec_id: str, moves, run_checker, **film) -> CheckResult:
    """Film a session of `moves` (after the drill's lead-in) and run the spec over it."""
    _, result = run_checker(spec_of(spec_id), sequence(DRILLS[spec_id].session(moves), **film))
    return result


# --- the program's full dose ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec_id", DRILLS)
def test_the_full_dose_done_well_counts_exactly_the_program(spec_id: str, run_checker) -> None:
    spec = spec_of(spec_id)
    drill = DRILLS[spec_id]
    result = check(spec_id, drill.dose, run_checker, noise_px=0.5)
    lead_in_end = drill.lead_in().t

    low, high = spec.dose.reps
    if spec.dose.per_side:
        assert drill.by_side
        assert (result.reps_on("left"), result.reps_on("right")) == (low, low)
    else:
        assert low <= len(result.reps) <= high
    assert len(result.reps) == len(drill.dose)
    assert result.good_reps == len(result.reps)
    assert fault_ids(result) == [[]] * len(drill.dose)
    assert result.faults_outside_reps == []
    assert result.abandoned_attempts == 0
    assert result.reps[0].start_t >= lead_in_end - 0.1  # getting into position and fidgeting count nothing
    if drill.by_side and spec.sides == "working_side":
        assert [rep.side for rep in result.reps] == [move.side for move in drill.dose]
    if spec.dose.hold_s:
        assert drill.hold_s is not None and drill.hold_s >= spec.dose.hold_s[0]
        for rep in result.reps:
            assert rep.hold_s == pytest.approx(drill.hold_s, abs=HOLD_TOLERANCE_S)


# --- each form rule, alone --------------------------------------------------------------------------------

# Problems the stick figure shows in specs tuned on rendered clips (not changed here: reported).
BACK_SAG_WITH_ARM_UP = (
    "bird_dog: back_sag (hip below the hand-foot line) also fires when the arm is only raised: lifting "
    "the hand lifts the line over the hip, and back_sag excludes a high leg but not a high arm. Its "
    "threshold is crossed from about 8 degrees above level, arm_high only from about 18, so arm_high "
    "never comes alone"
)
LEG_LOW_WINDOW = (
    "bird_dog: leg_low (ankle > 0.3 torso lengths below the hip) can only fire on reps the count "
    "sees, and the count needs the ankle >= 0.25 (active_above) above where it rests on all fours "
    "(~0.9 below the hip): a leg more than ~20-25 degrees below level is not a rep at all, no count, no "
    "'lift your leg' message (the rendered-clip generator's leg_low is 25-32 degrees below level)"
)
KNOWN_PROBLEMS: dict[tuple[str, str], str] = {}

RULE_CASES = [
    pytest.param(
        spec_id,
        fault,
        id=f"{spec_id}-{fault}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN_PROBLEMS[spec_id, fault])]
        if (spec_id, fault) in KNOWN_PROBLEMS
        else [],
    )
    for spec_id, drill in DRILLS.items()
    for fault in drill.faults
]


def test_every_form_rule_has_a_case() -> None:
    for spec_id, drill in DRILLS.items():
        rules = {rule.id for rule in spec_of(spec_id).rules}
        if spec_of(spec_id).dose.hold_s:
            rules.add("hold_short")
        assert set(drill.faults) == rules, spec_id


@pytest.mark.parametrize(("spec_id", "fault"), RULE_CASES)
def test_a_faulty_rep_breaks_exactly_its_rule(spec_id: str, fault: str, run_checker) -> None:
    drill = DRILLS[spec_id]
    moves = drill.three(fault)
    result = check(spec_id, moves, run_checker)

    assert len(result.reps) == 3
    assert fault_ids(result) == [[], [fault], []]
    severity = {rule.id: rule.severity for rule in spec_of(spec_id).rules}.get(fault, "fault")
    assert result.good_reps == (3 if severity == "warning" else 2)
    assert result.faults_outside_reps == []
    if drill.by_side:
        assert [rep.side for rep in result.reps] == [move.side for move in moves]


BACK_SAG_WITH_HIGH_CAMERA = (
    "bird_dog: back_sag's hip_below_line mixes the two body sides (the reaching arm's wrist is on "
    "the far side when the near leg lifts), and a camera above the body shows the farther point "
    "higher: a clean, level reach reads -0.08 from a level camera and -0.16 (past -0.15) from 15 "
    "degrees above, so every near-leg rep is flagged back_sag (from 10 degrees below, far-leg reps)"
)


@pytest.mark.parametrize(
    ("top", "film", "expected"),
    [
        pytest.param(
            {"arm_dir": 8.0},
            {},
            [[], []],
            id="arm-8-degrees-above-level-is-clean",
            marks=pytest.mark.xfail(strict=True, reason=BACK_SAG_WITH_ARM_UP),
        ),
        pytest.param(
            {"leg_dir": 205.0},
            {},
            [["leg_low"], ["leg_low"]],
            id="leg-25-degrees-below-level-is-leg_low",
            marks=pytest.mark.xfail(strict=True, reason=LEG_LOW_WINDOW),
        ),
        pytest.param(
            {},
            {"elevation_deg": 15.0},
            [[], []],
            id="camera-15-degrees-above-is-clean",
            marks=pytest.mark.xfail(strict=True, reason=BACK_SAG_WITH_HIGH_CAMERA),
        ),
    ],
)
def test_bird_dog_problems_found_with_the_stick_figure(top: dict, film: dict, expected, run_checker) -> None:
    """Clean-looking bird dogs the spec misjudges (one rep per side, 6 s holds)."""
    tl = DRILLS["bird_dog"].lead_in()
    for side in ("left", "right"):
        tl.to(reach(side, **top), 1.5).hold(6.0).to(FOURS, 1.5).hold(1.5)
    _, result = run_checker(spec_of("bird_dog"), sequence(tl, **film))
    assert fault_ids(result) == expected


# --- noise and a brief dropout ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec_id", DRILLS)
def test_noise_and_a_brief_dropout_keep_the_count(spec_id: str, run_checker) -> None:
    drill = DRILLS[spec_id]
    moves = drill.three()
    tl = drill.lead_in()
    drill.rep(tl, moves[0].side, None)
    middle_rep_from = tl.t
    drill.rep(tl, moves[1].side, None)
    blink_t = (middle_rep_from + tl.t) / 2  # in the middle of the second rep: at the top or holding
    drill.rep(tl, moves[2].side, None)
    drill.finish(tl)
    blink = (blink_t, blink_t + DROPOUT_S - 0.2)
    seq = sequence(tl, noise_px=1.5, seed=11, dropout=blink)
    assert np.isnan(seq.xy[(seq.t >= blink[0]) & (seq.t < blink[1])]).all()

    _, result = run_checker(spec_of(spec_id), seq)
    assert len(result.reps) == 3
    assert fault_ids(result) == [[], [], []]
    assert result.abandoned_attempts == 0
    if drill.by_side:
        assert [rep.side for rep in result.reps] == [move.side for move in moves]


# --- other cameras and bodies -----------------------------------------------------------------------------

VARIANT_CASES = [(spec_id, i) for spec_id, drill in DRILLS.items() for i in range(len(drill.variants))]


def variant_id(spec_id: str, i: int) -> str:
    v = DRILLS[spec_id].variants[i]
    body = v.get("body")
    parts = [v.get("view", "side"), v.get("camera_side", "left")]
    if body is not None:
        parts.append(f"x{body.scale:g}")
    if "elevation_deg" in v:
        parts.append(f"up{v['elevation_deg']:g}")
    return f"{spec_id}-{'-'.join(parts)}"


@pytest.mark.parametrize(("spec_id", "variant"), VARIANT_CASES, ids=[variant_id(*c) for c in VARIANT_CASES])
def test_same_count_from_other_cameras_and_body_sizes(spec_id: str, variant: int, run_checker) -> None:
    drill = DRILLS[spec_id]
    film = drill.variants[variant]
    moves = drill.three()
    if spec_id == "multidirectional_lunge":  # every direction, with both legs
        moves = lunge_round("right") + lunge_round("left")
    result = check(spec_id, moves, run_checker, noise_px=0.5, **film)

    assert len(result.reps) == len(moves)
    assert fault_ids(result) == [[]] * len(moves)
    if drill.by_side:
        assert [rep.side for rep in result.reps] == [move.side for move in moves]
    elif spec_of(spec_id).sides == "facing_camera" and film.get("view", "side") == "side":
        assert {rep.side for rep in result.reps} == {film.get("camera_side", "left")}


# --- what the specs promise beyond the rules ----------------------------------------------------------------


def test_tabletop_one_foot_up_alone_is_not_a_rep(run_checker) -> None:
    tl = tabletop_lead_in()
    for side in ("left", "right"):
        tl.to(leg(BENT, side, 90.0), 1.0).hold(6.0).to(BENT, 1.0).hold(1.5)
    tabletop_rep(tl, "left", None)
    _, result = run_checker(spec_of("tabletop_hold"), sequence(tl, noise_px=0.5))
    assert len(result.reps) == 1 and fault_ids(result) == [[]]  # only the rep with both feet up


# --- the postures are what the tests say they are -----------------------------------------------------------


def values(spec_id: str, pose: Pose, side: str, metric_values) -> dict[str, float]:
    seq = sequence(still(pose, 0.2))
    return {k: float(v[0]) for k, v in metric_values(spec_of(spec_id), seq, side).items()}


def test_the_synthetic_postures_have_the_intended_geometry(metric_values) -> None:
    tt = values("tabletop_hold", TABLETOP, "left", metric_values)
    assert abs(tt["hip_angle"] - 90) < 2 and abs(tt["knee_angle"] - 90) < 2 and tt["thigh_tilt"] < 2
    db = values("dead_bug", leg(TABLETOP, "left", 28.0, 180.0), "left", metric_values)
    assert db["knee_angle"] > 175 and abs(db["other_hip_angle"] - 90) < 2  # one leg out, the other knee up
    dk = values("donkey_kick", knee_back("left", 90.0), "left", metric_values)
    assert abs(dk["knee_lift"]) < 0.02 and abs(dk["knee_angle"] - 90) < 1  # knee level with the hip
    lu = values("multidirectional_lunge", lunge("forward", "right"), "right", metric_values)
    assert abs(lu["knee_angle"] - 90) < 1 and lu["trunk_lean"] < 1
    side = values("multidirectional_lunge", lunge("side", "right"), "right", metric_values)
    assert 85 < side["knee_angle"] < 100  # the stepping knee (the other stays straight)
    shallow = values("multidirectional_lunge", lunge("forward", "right", hip_y=0.68), "right", metric_values)
    assert 110 + 4 < shallow["knee_angle"] < 125 - 4  # short of a right angle
    standing = values("multidirectional_lunge", STAND, "right", metric_values)["hip_height"]
    for bottom in (lu, side, shallow):  # every lunge sinks the hips past the 0.35 that counts
        assert standing - bottom["hip_height"] > 0.35 + 0.1
    hh = values("hip_hinge_back_extension", hinge(), "left", metric_values)
    assert 150 < hh["knee_angle"] < 170 and hh["trunk_lean"] > 45 and hh["arm_angle"] < 25
    tk = values("tall_kneeling_hip_extension", kneel(-90.0), "left", metric_values)
    assert tk["hip_angle"] > 178 and tk["thigh_tilt"] < 1
