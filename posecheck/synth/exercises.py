"""The exercises: keyframed scripts (getting into position, reps, faults) and per-frame contact
solvers that turn the keyed parameters into a body pose.

Each exercise writes a `Timeline` of its own parameters (a bridge keys the trunk's lift angle
and how far the feet have slid, a bird dog the world angle of each limb, ...) and `solve`
turns one frame's parameters into joint angles (`posecheck.synth.body`), world directions for
limbs placed by inverse kinematics, and props (the hinge's dowel). Geometry is in metres and
degrees. Faults are the spec's rule ids; each rep's plan says which fault (if any) it has.

World layout: floor exercises lie along the y axis (supine: head toward +y; prone and
quadruped: head toward -y); standing exercises face -y. The subject's left is +x.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posecheck.synth.body import Body, normalize, sagittal_to_joint, world_sagittal
from posecheck.synth.timeline import FAULT_PREFIX, Timeline

F = FAULT_PREFIX  # "fault:<id>" timeline parameters: 1 where the rep shows the fault


@dataclass
class RepPlan:
    """One rep to perform: its fault (None = clean), working side and timing in seconds."""

    fault: str | None
    side: str | None  # "l"/"r" for alternating exercises: the working leg
    move_s: float
    hold_s: float
    return_s: float
    rest_s: float


@dataclass
class Prop:
    """A rigid cylinder held by the subject (the hinge's dowel), world coordinates."""

    a: np.ndarray
    b: np.ndarray
    radius: float
    color: tuple[float, float, float]


@dataclass
class Motion:
    """What a script produces: the timeline, which body point stays put, and per-rep notes."""

    timeline: Timeline
    anchor: str
    rep_notes: list[dict] = field(default_factory=list)
    wobble: dict[str, float] = field(default_factory=dict)  # parameter -> amplitude (deg)


def atan2d(du: float, dw: float) -> float:
    """World sagittal angle (see body.world_sagittal) of a 2D direction (toward -y, up)."""
    return float(np.degrees(np.arctan2(du, dw)))


def knee_up(hip: np.ndarray, ankle: np.ndarray, l1: float, l2: float) -> np.ndarray:
    """2D two-link IK in the (u, w) plane: the knee between hip and ankle, on the upper side."""
    d_vec = ankle - hip
    d = min(float(np.linalg.norm(d_vec)), l1 + l2 - 1e-6)
    base = np.arctan2(d_vec[1], d_vec[0])
    bend = np.arccos(np.clip((l1**2 + d**2 - l2**2) / (2 * l1 * d), -1.0, 1.0))
    g = base + bend
    return hip + l1 * np.array([np.cos(g), np.sin(g)])


def elbow_ik(shoulder: np.ndarray, wrist: np.ndarray, l1: float, l2: float, pole: np.ndarray) -> np.ndarray:
    """3D two-link IK: the elbow between shoulder and wrist, bent toward `pole`."""
    d_vec = wrist - shoulder
    dist = float(np.linalg.norm(d_vec))
    d = d_vec / max(dist, 1e-9)
    dist = float(np.clip(dist, abs(l1 - l2) + 1e-4, l1 + l2 - 1e-4))
    q = normalize(pole - np.dot(pole, d) * d)
    cos_a = (l1**2 + dist**2 - l2**2) / (2 * l1 * dist)
    a = np.arccos(np.clip(cos_a, -1.0, 1.0))
    return shoulder + l1 * (np.cos(a) * d + np.sin(a) * q)


def bisect(f, lo: float, hi: float, iters: int = 40) -> float:
    """A root of f in [lo, hi] (f must change sign); the nearer end if it does not."""
    f_lo, f_hi = f(lo), f(hi)
    if f_lo * f_hi > 0:
        return lo if abs(f_lo) < abs(f_hi) else hi
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if f_lo * f_mid <= 0:
            hi = mid
        else:
            lo, f_lo = mid, f_mid
    return 0.5 * (lo + hi)


def pitch_for_height(
    body: Body, pose: dict[str, float], upper: str, lower: str, dz: float, near: float
) -> float:
    """The pitch at which point `upper` is `dz` metres above point `lower` (bone names, or
    'shoulders'/'hips' for mid-points), the rest of the pose fixed. With no yaw, the world
    height of a body vector w after pitching by p is w_y sin p + w_z cos p: solved in closed
    form, choosing the solution nearest `near` degrees."""
    local = body.local_rotations({**pose, "pitch": 0.0})
    heads, _ = body.skeleton(local)

    def point(name: str) -> np.ndarray:
        if name == "shoulders":
            return 0.5 * (heads[body.index["upperarm01.L"]] + heads[body.index["upperarm01.R"]])
        if name == "hips":
            return 0.5 * (heads[body.index["upperleg01.L"]] + heads[body.index["upperleg01.R"]])
        return heads[body.index[name]]

    w = point(upper) - point(lower)
    r = float(np.hypot(w[1], w[2]))
    phi = np.arctan2(w[2], w[1])
    base = np.arcsin(np.clip(dz / r, -1.0, 1.0))
    candidates = np.degrees([base - phi, np.pi - base - phi])
    candidates = (candidates + 180.0) % 360.0 - 180.0
    return float(candidates[np.argmin(np.abs(candidates - near))])


class Exercise:
    """Base class: the program's exercise id, its fault ids, views and rep timing."""

    id = ""
    faults: tuple[str, ...] = ()
    alternating = False
    # how each fault's labelled frames are found: "hold" = the rep's hold while the fault is
    # keyed; "track" = wherever the fault's keyed amount is at least 0.5 (develops over time)
    fault_scope: dict[str, str] = {}
    three_quarter_toward = "head"  # where a three-quarter camera turns from the side view

    def timing(self, rng: np.random.Generator, tempo: float, fault: str | None, hold_s: float | None) -> dict:
        raise NotImplementedError

    def script(self, body: Body, plans: list[RepPlan], rng: np.random.Generator) -> Motion:
        raise NotImplementedError

    def solve(self, body: Body, p: dict[str, float]) -> tuple[dict, dict, list[Prop]]:
        raise NotImplementedError

    def floor_bones(self, p: dict[str, float]) -> tuple[str, ...] | None:
        """Bone-name patterns (fnmatch) of the vertices that rest on the floor in this frame
        (None: the lowest point of the whole body does)."""
        return None


# --- segmental bridge ----------------------------------------------------------------------------


class SegmentalBridge(Exercise):
    """Supine, knees bent, feet flat: lift the hips into a shoulder-hip-knee line, hold, lower.

    A 2D model in the (u, w) plane (u toward the feet, w up): the shoulder joint rests at its
    lying height, the trunk rises by `beta` degrees about it, the ankle sits at a fixed distance
    `D + slide` on the floor, and the knee follows by two-link IK. `D` is chosen per body so
    that the full bridge has the hip straight and the knee at about 95 deg."""

    id = "segmental_bridge"
    faults = ("hips_not_high", "hips_sag", "knees_drift", "hold_short")
    fault_scope = {"hips_not_high": "hold", "hips_sag": "track", "knees_drift": "track", "hold_short": "hold"}
    # the full bridge in the sagittal plane: hip nearly straight, knee at 95 deg (in 3D the
    # shoulder-hip-knee angle is ~10 deg smaller: the shoulders are wider than the hips)
    HIP_TOP, KNEE_TOP = 176.0, 95.0

    def timing(self, rng, tempo, fault, hold_s):
        hold = (hold_s or rng.uniform(5.6, 6.4)) * rng.uniform(0.97, 1.04)
        if fault == "hold_short":
            hold = rng.uniform(1.3, 2.6)
        return dict(
            move_s=rng.uniform(1.6, 2.0) * tempo,
            hold_s=hold,
            return_s=rng.uniform(1.7, 2.1) * tempo,
            rest_s=rng.uniform(0.9, 1.4),
        )

    def geometry(self, body: Body) -> None:
        self.T, self.L1, self.L2 = body.length["trunk"], body.length["thigh"], body.length["shin"]
        self.s0, self.a0 = body.shoulder_back, body.ankle_height
        self.beta0 = float(np.degrees(np.arcsin(np.clip((body.hip_back - self.s0) / self.T, -0.3, 0.3))))

        hip, knee = np.radians(180.0 - self.HIP_TOP), np.radians(self.KNEE_TOP)

        def ankle_height_error(b: float) -> float:
            g = b + hip
            psi = g - np.pi + knee
            return self.s0 + self.T * np.sin(b) + self.L1 * np.sin(g) + self.L2 * np.sin(psi) - self.a0

        b = bisect(ankle_height_error, 0.0, 1.2)
        g, psi = b + hip, b + hip - np.pi + knee
        self.beta_top = float(np.degrees(b))
        self.D = float(self.T * np.cos(b) + self.L1 * np.cos(g) + self.L2 * np.cos(psi))

    def script(self, body, plans, rng):
        self.geometry(body)
        b0, top = self.beta0, self.beta_top
        arm_abd = rng.uniform(10, 20)
        lying = {
            "beta": b0,
            "slide": 0.0,
            "bend": 0.0,
            "arm_abd": arm_abd + rng.uniform(5, 15),
            "hip_abd": 2.0,
            "head_turn": rng.uniform(-15, 15),
            "neck_extra": 0.0,
            **{F + f: 0.0 for f in self.faults},
        }
        tl = Timeline(lying)
        tl.stay(rng.uniform(0.6, 1.2), "setup")
        # getting into position: bend the knees one at a time, settle the arms, look around
        tl.go(rng.uniform(1.0, 1.4), "setup", bend=0.55, hip_abd=6.0)
        tl.go(rng.uniform(0.8, 1.2), "setup", bend=1.0, arm_abd=arm_abd, head_turn=0.0)
        tl.go(rng.uniform(0.5, 0.8), "setup", hip_abd=rng.uniform(0.0, 4.0), slide=rng.uniform(0.02, 0.05))
        tl.go(rng.uniform(0.6, 0.9), "setup", slide=0.0, head_turn=rng.uniform(-8, 8))
        tl.go(rng.uniform(0.5, 0.8), "setup", head_turn=0.0, hip_abd=2.0)
        tl.stay(rng.uniform(0.9, 1.3), "rest")
        notes = []
        for i, plan in enumerate(plans):
            start = tl.pose
            peak = top + rng.uniform(-1.0, 1.5)
            up = {"beta": peak, F + "hold_short": float(plan.fault == "hold_short")}
            note: dict = {}
            if plan.fault == "hips_not_high":
                peak = b0 + (top - b0) * rng.uniform(0.32, 0.45)
                up.update(beta=peak, **{F + "hips_not_high": 1.0})
            tl.go(plan.move_s, "moving_out", i, **up)
            note["peak_lift_deg"] = round(peak, 2)
            note["full_lift_deg"] = round(top, 2)
            if plan.fault == "hips_sag":
                drop = (peak - b0) * rng.uniform(0.36, 0.42)
                first = plan.hold_s * rng.uniform(0.3, 0.42)
                tl.stay(first, "hold", i)
                tl.go(rng.uniform(1.0, 1.4), "hold", i, beta=peak - drop, **{F + "hips_sag": 1.0})
                tl.stay(max(plan.hold_s - (tl.now - tl.spans[-1].t0), 0.8), "hold", i)
                note["sag_deg"] = round(drop, 2)
            elif plan.fault == "knees_drift":
                slide = rng.uniform(0.09, 0.11)
                first = plan.hold_s * rng.uniform(0.25, 0.35)
                tl.stay(first, "hold", i)
                tl.go(rng.uniform(1.4, 1.9), "hold", i, slide=slide, **{F + "knees_drift": 1.0})
                tl.stay(max(plan.hold_s - (tl.now - tl.spans[-1].t0), 0.8), "hold", i)
                note["feet_slide_m"] = round(slide, 3)
            else:
                tl.stay(plan.hold_s, "hold", i)
            back = {**start, "slide": tl.pose["slide"] * rng.uniform(0.0, 0.3)}  # feet shuffled back
            tl.go_to(plan.return_s, back, "returning", i)
            if tl.pose["slide"] > 0:
                tl.go(0.6, "rest", slide=0.0)
            tl.stay(plan.rest_s, "rest")
            notes.append(note)
        tl.stay(rng.uniform(1.0, 1.6), "rest")
        return Motion(
            tl,
            anchor="shoulders",
            rep_notes=notes,
            wobble={"spine": 0.6, "neck_extra": 1.5, "arm_abd": 1.5, "hip_abd": 1.5},
        )

    def solve(self, body, p):
        beta = np.radians(p["beta"])
        hip = np.array([self.T * np.cos(beta), self.s0 + self.T * np.sin(beta)])
        ankle = np.array([self.D + p["slide"], self.a0])
        knee = knee_up(hip, ankle, self.L1, self.L2)
        pitch = -90.0 - p["beta"]
        spine = p.get("spine", 0.0)
        thigh, shin = atan2d(*(knee - hip)), atan2d(*(ankle - knee))
        legs = sagittal_to_joint(pitch, spine, thigh_l=thigh, shin_l=shin, foot_l=90.0)
        bend = p["bend"]
        # arms lie on the floor beside the body: slope down from the shoulder to the hand
        du = 90.0 + np.degrees(np.arcsin(np.clip((self.s0 - 0.045) / body.length["uarm"], 0, 0.9)))
        arms = sagittal_to_joint(pitch, spine, uarm_l=du, farm_l=92.0, hand_l=92.0)
        pose = {
            "pitch": pitch,
            "spine": spine,
            "neck": 0.85 * p["beta"] + p["neck_extra"],
            "head_turn": p["head_turn"],
        }
        for s in ("l", "r"):
            pose[f"hip_flex_{s}"] = bend * legs["hip_flex_l"]
            pose[f"knee_{s}"] = bend * legs["knee_l"] + (1 - bend) * 4.0
            pose[f"ankle_{s}"] = bend * legs["ankle_l"] + (1 - bend) * 28.0
            pose[f"hip_abd_{s}"] = p["hip_abd"]
            pose[f"sh_flex_{s}"] = arms["sh_flex_l"]
            pose[f"elbow_{s}"] = arms["elbow_l"]
            pose[f"wrist_{s}"] = arms["wrist_l"]
            pose[f"sh_abd_{s}"] = p["arm_abd"]
            pose[f"farm_abd_{s}"] = p["arm_abd"] * 0.8
        return pose, {}, []


# --- bird dog ------------------------------------------------------------------------------------


class BirdDog(Exercise):
    """On hands and knees: reach one arm forward and the opposite leg back, hold, return;
    alternating sides. Limbs are aimed in world space (support limbs vertical, hands flat);
    the pelvis pitch is solved each frame so hands and knees both rest on the floor."""

    id = "bird_dog"
    faults = ("leg_high", "leg_low", "arm_low", "hip_rotation", "back_sag")
    alternating = True
    fault_scope = {
        "leg_high": "hold",
        "leg_low": "hold",
        "arm_low": "hold",
        "hip_rotation": "track",
        "back_sag": "track",
    }

    def timing(self, rng, tempo, fault, hold_s):
        hold = (hold_s or rng.uniform(5.6, 6.2)) * rng.uniform(0.97, 1.04)
        return dict(
            move_s=rng.uniform(1.2, 1.5) * tempo,
            hold_s=hold,
            return_s=rng.uniform(1.1, 1.4) * tempo,
            rest_s=rng.uniform(0.6, 0.9),
        )

    def script(self, body, plans, rng):
        self.dz = (body.length["uarm"] + body.length["farm"] + body.palm) - (
            body.length["thigh"] + body.knee_front
        )
        table = {
            "on_hands": 1.0,
            "pitch_up": 0.0,
            "spine": 0.0,
            "roll": 0.0,
            "neck": -12.0,
            "head_turn": 0.0,
            **{F + f: 0.0 for f in self.faults},
        }
        for s in ("l", "r"):
            table.update(
                {
                    f"arm_{s}": 180.0,
                    f"leg_{s}": 180.0,
                    f"knee_{s}": 90.0,
                    f"ankle_{s}": 95.0,
                    f"wrist_{s}": 90.0,
                    f"leg_out_{s}": 0.0,
                    f"arm_out_{s}": 4.0,
                }
            )
        kneel = {**table, "on_hands": 0.0, "neck": 0.0}
        for s in ("l", "r"):
            kneel.update({f"wrist_{s}": 0.0, f"arm_out_{s}": 8.0})
        tl = Timeline(kneel)
        tl.stay(rng.uniform(0.4, 0.7), "setup")
        tl.go(rng.uniform(0.6, 0.8), "setup", head_turn=rng.uniform(-20, 20))
        tl.go_to(rng.uniform(1.3, 1.6), {**table, "neck": -20.0}, "setup")
        # settle: shift the weight, look up and down
        tl.go(rng.uniform(0.5, 0.7), "setup", roll=rng.uniform(-5, 5), neck=-5.0, spine=rng.uniform(-6, 4))
        tl.go(rng.uniform(0.5, 0.7), "setup", roll=0.0, neck=-12.0, spine=0.0)
        tl.stay(rng.uniform(0.8, 1.2), "rest")
        notes = []
        for i, plan in enumerate(plans):
            leg = plan.side or "r"
            arm = "l" if leg == "r" else "r"
            ext = tl.pose
            ext.update(
                {
                    f"arm_{arm}": 90.0 + rng.uniform(-4, 4),
                    f"wrist_{arm}": 0.0,
                    f"leg_{leg}": 270.0 + rng.uniform(-4, 4),
                    f"knee_{leg}": rng.uniform(0, 6),
                    f"ankle_{leg}": rng.uniform(5, 25),
                    "neck": -8.0,
                }
            )
            note: dict = {"leg_side": leg, "arm_side": arm}
            f = plan.fault
            if f == "leg_high":
                ext[f"leg_{leg}"] = 270.0 + rng.uniform(24, 32)
                ext["spine"] = -rng.uniform(8, 12)
            elif f == "leg_low":  # the foot points back so the toes clear the floor
                ext[f"leg_{leg}"] = 270.0 - rng.uniform(19, 24)
                ext[f"knee_{leg}"] = rng.uniform(5, 10)
                ext[f"ankle_{leg}"] = rng.uniform(65, 80)
            elif f == "arm_low":
                ext[f"arm_{arm}"] = 90.0 + rng.uniform(32, 40)
            elif f == "hip_rotation":
                ext["roll"] = (1.0 if leg == "l" else -1.0) * rng.uniform(17, 23)
                ext[f"leg_out_{leg}"] = rng.uniform(8, 14)
            elif f == "back_sag":
                ext["spine"] = -rng.uniform(24, 30)
                ext["neck"] = -20.0
            if f:
                ext[F + f] = 1.0
            note["leg_deg_above_horizontal"] = round(ext[f"leg_{leg}"] - 270.0, 1)
            note["arm_deg_above_horizontal"] = round(90.0 - ext[f"arm_{arm}"], 1)
            note["pelvis_roll_deg"] = round(ext["roll"], 1)
            note["spine_flexion_deg"] = round(ext["spine"], 1)
            start = tl.pose
            tl.go_to(plan.move_s, ext, "moving_out", i)
            tl.stay(plan.hold_s, "hold", i)
            tl.go_to(plan.return_s, start, "returning", i)
            tl.stay(plan.rest_s, "rest")
            notes.append(note)
        tl.stay(rng.uniform(0.8, 1.3), "rest")
        return Motion(
            tl, anchor="support_knee", rep_notes=notes, wobble={"spine": 0.8, "neck": 2.0, "head_turn": 2.0}
        )

    def solve(self, body, p):
        pose = {
            "spine": p["spine"],
            "roll": p["roll"],
            "spine_twist": -p["roll"],
            "neck": p["neck"],
            "head_turn": p["head_turn"],
        }
        solved = pitch_for_height(body, pose, "shoulders", "hips", self.dz, near=90.0)
        w = p["on_hands"]
        pose["pitch"] = (1 - w) * p["pitch_up"] + w * solved
        aims = {}
        for s, sign in (("l", 1.0), ("r", -1.0)):
            x = np.array([sign, 0.0, 0.0])
            ua = world_sagittal(p[f"arm_{s}"])
            aims[f"uarm_{s}"] = normalize(ua + np.sin(np.radians(p[f"arm_out_{s}"])) * x)
            aims[f"farm_{s}"] = aims[f"uarm_{s}"]
            aims[f"hand_{s}"] = world_sagittal(p[f"arm_{s}"] - p[f"wrist_{s}"])
            th = world_sagittal(p[f"leg_{s}"])
            out = np.sin(np.radians(p[f"leg_out_{s}"])) * x
            aims[f"thigh_{s}"] = normalize(th + out)
            shin = p[f"leg_{s}"] + p[f"knee_{s}"]
            aims[f"shin_{s}"] = normalize(world_sagittal(shin) + out)
            aims[f"foot_{s}"] = world_sagittal(shin - 90.0 + p[f"ankle_{s}"])
        return pose, aims, []

    def floor_bones(self, p):
        if p["on_hands"] < 0.99:
            return None
        bones: list[str] = []
        for s, suffix in (("l", "L"), ("r", "R")):
            if abs(p[f"arm_{s}"] - 180.0) < 5:
                bones += [f"wrist.{suffix}", f"metacarpal*.{suffix}", f"finger*.{suffix}"]
            if abs(p[f"leg_{s}"] - 180.0) < 5:
                bones += [f"lowerleg0*.{suffix}", f"upperleg02.{suffix}"]
        return tuple(bones) or None


# --- hip hinge with a dowel ----------------------------------------------------------------------


class HipHinge(Exercise):
    """Standing, a dowel held behind the back touching head, upper back and sacrum: hinge
    forward at the hips with soft knees and a neutral spine, pause, stand up.

    Keyed: the trunk's forward `pitch`, `spine` flexion, the shin's forward tilt `shin` and the
    thigh's tilt `thigh` (degrees from vertical; their sum is the knee flexion). The dowel
    rests on the sacrum and the back of the head (or the upper back, when the back rounds);
    the hands hold it (arm IK): one behind the neck, the other at the low back."""

    id = "hip_hinge_dowel"
    faults = ("rounded_spine", "squat", "knees_too_bent")
    fault_scope = {"rounded_spine": "track", "squat": "track", "knees_too_bent": "track"}
    three_quarter_toward = "front"

    def timing(self, rng, tempo, fault, hold_s):
        hold = (hold_s or rng.uniform(0.5, 1.0)) * rng.uniform(0.95, 1.05)
        return dict(
            move_s=rng.uniform(1.6, 2.0) * tempo,
            hold_s=hold,
            return_s=rng.uniform(1.5, 1.9) * tempo,
            rest_s=rng.uniform(0.7, 1.2),
        )

    def script(self, body, plans, rng):
        self._dowel_points(body)
        self.top_hand = "l" if rng.random() < 0.5 else "r"
        self.radius = 0.016
        self.length = max(1.2, body.stature * 0.7)
        stand = {
            "pitch": 0.0,
            "spine": 0.0,
            "shin": 1.0,
            "thigh": 0.0,
            "stance": 2.0,
            "grip_slide": 0.0,
            "neck": 0.0,
            "head_turn": 0.0,
            **{F + f: 0.0 for f in self.faults},
        }
        ready = {**stand, "shin": 6.0, "thigh": 6.0, "stance": 6.5}
        tl = Timeline(stand)
        tl.stay(rng.uniform(0.6, 1.0), "setup")
        tl.go(rng.uniform(0.7, 1.0), "setup", stance=6.5, head_turn=rng.uniform(-25, 25))
        tl.go(rng.uniform(0.6, 0.9), "setup", grip_slide=rng.uniform(0.04, 0.08), head_turn=0.0)
        tl.go(rng.uniform(0.5, 0.8), "setup", grip_slide=0.0, pitch=rng.uniform(-3, 3))
        tl.go_to(rng.uniform(0.8, 1.1), ready, "setup")
        tl.stay(rng.uniform(1.0, 1.5), "rest")
        notes = []
        for i, plan in enumerate(plans):
            lean = rng.uniform(50, 60)
            bottom = {
                **ready,
                "pitch": lean,
                "shin": rng.uniform(7, 10),
                "thigh": rng.uniform(12, 16),
                "neck": -6.0,
            }
            f = plan.fault
            if f == "rounded_spine":
                bottom.update(pitch=lean * rng.uniform(0.42, 0.52), spine=rng.uniform(46, 54), neck=16.0)
            elif f == "squat":
                bottom.update(pitch=rng.uniform(20, 28), shin=rng.uniform(30, 36), thigh=rng.uniform(62, 72))
            elif f == "knees_too_bent":
                bottom.update(shin=rng.uniform(22, 27), thigh=rng.uniform(36, 42))
            if f:
                bottom[F + f] = 1.0
            notes.append(
                {
                    "trunk_lean_deg": round(bottom["pitch"], 1),
                    "spine_flexion_deg": round(bottom["spine"], 1),
                    "knee_flexion_deg": round(bottom["shin"] + bottom["thigh"], 1),
                    "hip_flexion_deg": round(bottom["pitch"] + bottom["thigh"], 1),
                }
            )
            tl.go_to(plan.move_s, bottom, "moving_out", i)
            tl.stay(plan.hold_s, "hold", i)
            tl.go_to(plan.return_s, ready, "returning", i)
            tl.stay(plan.rest_s, "rest")
        tl.stay(rng.uniform(0.8, 1.3), "rest")
        return Motion(tl, anchor="ankles", rep_notes=notes, wobble={"spine": 0.5, "head_turn": 1.5})

    def _dowel_points(self, body: Body) -> None:
        """Rest-pose vertices where a dowel touches the back: sacrum, upper back, back of head."""
        v, h, ix = body.rest_vertices, body.rest_heads, body.index
        mid = np.abs(v[:, 0]) < 0.03

        def most_posterior(z0: float, z1: float) -> int:
            sel = np.flatnonzero(mid & (v[:, 2] > z0) & (v[:, 2] < z1))
            return int(sel[np.argmax(v[sel, 1])])

        hip_z, sh_z = h[ix["upperleg01.L"], 2], h[ix["upperarm01.L"], 2]
        self.v_sacrum = most_posterior(hip_z + 0.02, hip_z + 0.12)
        self.v_thorax = most_posterior(sh_z - 0.2, sh_z - 0.05)
        self.v_head = most_posterior(h[ix["head"], 2] + 0.03, h[ix["head"], 2] + 0.2)

    def _legs(self, p):
        pitch = p["pitch"]
        joints = sagittal_to_joint(pitch, thigh_l=180.0 - p["thigh"], shin_l=180.0 + p["shin"], foot_l=90.0)
        pose = {"pitch": pitch, "spine": p["spine"], "neck": p["neck"], "head_turn": p["head_turn"]}
        for s in ("l", "r"):
            pose.update(
                {
                    f"hip_flex_{s}": joints["hip_flex_l"],
                    f"knee_{s}": joints["knee_l"],
                    f"ankle_{s}": joints["ankle_l"],
                    f"hip_abd_{s}": p["stance"],
                    f"shin_abd_{s}": p["stance"] * 0.6,
                }
            )
        return pose

    def solve(self, body, p):
        pose = self._legs(p)
        local = body.local_rotations(pose)
        a, axis, normal = self._dowel_line(body, local)
        heads, glob = body.skeleton(local)
        chest = glob[body.index["spine01"]]
        bottom = a - 0.16 * axis  # the dowel's lower end, below the sacrum contact
        top = bottom + self.length * axis
        aims = {}
        neck_base = heads[body.index["neck01"]]
        for s, sign in (("l", 1.0), ("r", -1.0)):
            suffix = "L" if s == "l" else "R"
            shoulder = heads[body.index[f"upperarm01.{suffix}"]]
            if s == self.top_hand:  # behind the neck, elbow out and up
                along = float(np.dot(neck_base - a, axis)) + 0.04 + p["grip_slide"]
                pole = sign * chest[:, 0] + 0.9 * chest[:, 2] + 0.2 * chest[:, 1]
            else:  # at the low back, elbow out and back
                along = -0.02 - p["grip_slide"] * 0.5
                pole = sign * chest[:, 0] + 0.8 * chest[:, 1] - 0.2 * chest[:, 2]
            grip = a + along * axis + (self.radius + 0.02) * normal
            # the wrist sits a hand's width from the grip, toward the shoulder
            wrist = grip + 0.07 * normalize(shoulder - grip - np.dot(shoulder - grip, axis) * axis)
            elbow = elbow_ik(shoulder, wrist, body.length["uarm"], body.length["farm"], pole)
            aims[f"uarm_{s}"] = normalize(elbow - shoulder)
            aims[f"farm_{s}"] = normalize(wrist - elbow)
            aims[f"hand_{s}"] = normalize(grip - wrist + 0.3 * aims[f"farm_{s}"])
        lift = (self.radius + 0.004) * normal
        return pose, aims, [Prop(bottom + lift, top + lift, self.radius, (0.62, 0.45, 0.26))]

    def _dowel_line(self, body: Body, local: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where a straight dowel lies on the back: a point on it (the sacrum contact), its unit
        axis toward the head, and the unit normal pointing away from the back. It rests on
        the sacrum and the back of the head; if the upper back sticks out past that line
        (a rounded back), it rests on the sacrum and the upper back instead."""
        sac, tho, head = body.skin_points(np.array([self.v_sacrum, self.v_thorax, self.v_head]), local)
        back = local[0][:, 1]  # the pelvis frame's posterior direction

        def frame(tip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            axis = normalize(tip - sac)
            return axis, normalize(back - np.dot(back, axis) * axis)

        axis, normal = frame(head)
        if np.dot(tho - sac, normal) > 0:
            axis, normal = frame(tho)
        return sac, axis, normal


# --- plank on elbows and knees --------------------------------------------------------------------


class PlankElbowsKnees(Exercise):
    """Prone: from lying on the forearms (sphinx), lift the hips and the lower legs so that
    knees, hips and shoulders are in one line, resting on forearms and knees; hold; lower.

    Upper arms vertical and forearms flat are aimed in world space; the pelvis pitch is solved
    each frame so that the elbows and the knees both rest on the floor (when the hips are up)
    or the elbows and the front of the pelvis (when they are down)."""

    id = "plank_elbows_knees"
    faults = ("hips_sag", "hips_pike", "hold_short")
    fault_scope = {"hips_sag": "track", "hips_pike": "track", "hold_short": "hold"}

    def timing(self, rng, tempo, fault, hold_s):
        hold = (hold_s or rng.uniform(7.0, 9.0)) * rng.uniform(0.97, 1.04)
        if fault == "hold_short":
            hold = rng.uniform(1.5, 2.5)
        return dict(
            move_s=rng.uniform(1.3, 1.7) * tempo,
            hold_s=hold,
            return_s=rng.uniform(1.3, 1.7) * tempo,
            rest_s=rng.uniform(1.2, 1.8),
        )

    def script(self, body, plans, rng):
        self.body = body
        lying = {
            "prop": 0.0,
            "up": 0.0,
            "hip_flex": -4.0,
            "spine": -4.0,
            "neck": -10.0,
            "shin": 272.0,
            "head_turn": rng.uniform(-30, 30),
            **{F + f: 0.0 for f in self.faults},
        }
        tl = Timeline(lying)
        tl.stay(rng.uniform(0.5, 0.9), "setup")
        tl.go(rng.uniform(0.8, 1.1), "setup", head_turn=0.0)
        # up onto the forearms (sphinx), settle, look down
        tl.go(rng.uniform(1.2, 1.6), "setup", prop=1.0, spine=-rng.uniform(14, 20), neck=-20.0)
        tl.go(rng.uniform(0.5, 0.8), "setup", neck=5.0, shin=rng.uniform(272, 285))
        tl.go(rng.uniform(0.5, 0.8), "setup", shin=272.0)
        tl.stay(rng.uniform(0.8, 1.2), "rest")
        notes = []
        for i, plan in enumerate(plans):
            start = tl.pose
            plank = {
                **start,
                "up": 1.0,
                "hip_flex": rng.uniform(-2, 3),
                "spine": rng.uniform(-3, 2),
                "neck": 10.0,
                "shin": 270.0 + rng.uniform(35, 55),
                F + "hold_short": float(plan.fault == "hold_short"),
            }
            tl.go_to(plan.move_s, plank, "moving_out", i)
            note = {}
            if plan.fault in ("hips_sag", "hips_pike"):
                bad = dict(plank)
                if plan.fault == "hips_sag":
                    bad.update(hip_flex=-rng.uniform(14, 20), spine=-rng.uniform(14, 20))
                else:
                    bad.update(hip_flex=rng.uniform(30, 40), spine=rng.uniform(4, 8))
                bad[F + plan.fault] = 1.0
                first = plan.hold_s * rng.uniform(0.25, 0.4)
                tl.stay(first, "hold", i)
                tl.go_to(rng.uniform(1.0, 1.4), bad, "hold", i)
                tl.stay(max(plan.hold_s - (tl.now - tl.spans[-1].t0), 0.8), "hold", i)
                note = {
                    "hip_flexion_deg": round(bad["hip_flex"], 1),
                    "spine_flexion_deg": round(bad["spine"], 1),
                }
            else:
                tl.stay(plan.hold_s, "hold", i)
            tl.go_to(plan.return_s, start, "returning", i)
            tl.stay(plan.rest_s, "rest")
            notes.append(note)
        tl.stay(rng.uniform(0.8, 1.2), "rest")
        return Motion(tl, anchor="support_knee", rep_notes=notes, wobble={"neck": 2.0, "spine": 0.5})

    def solve(self, body, p):
        pose = {"spine": p["spine"], "neck": p["neck"], "head_turn": p["head_turn"]}
        for s in ("l", "r"):
            pose.update({f"hip_flex_{s}": p["hip_flex"], f"hip_abd_{s}": 2.0})
        elbow_height = body.length["uarm"] + body.elbow_pad * 0.7
        # hips down: elbows and the front of the pelvis on the floor; hips up: elbows and knees
        down = pitch_for_height(body, pose, "shoulders", "hips", elbow_height - body.hip_front, near=80.0)
        up = pitch_for_height(
            body, pose, "shoulders", "lowerleg01.L", elbow_height - body.knee_front, near=70.0
        )
        propped = (1 - p["up"]) * down + p["up"] * up
        pose["pitch"] = (1 - p["prop"]) * 92.0 + p["prop"] * propped
        thigh = pose["pitch"] + 180.0 - p["hip_flex"]
        aims = {}
        for s, sign in (("l", 1.0), ("r", -1.0)):
            x = np.array([sign, 0.0, 0.0])
            # lying: elbows out to the side on the floor; propped: under the shoulders
            ua = 150.0 + 30.0 * p["prop"]
            out = np.radians(45.0 * (1 - p["prop"]) + 5.0)
            aims[f"uarm_{s}"] = normalize(np.cos(out) * world_sagittal(ua) + np.sin(out) * x)
            aims[f"farm_{s}"] = normalize(world_sagittal(92.0) - 0.25 * x)
            aims[f"hand_{s}"] = normalize(world_sagittal(92.0) - 0.1 * x)
            pose[f"knee_{s}"] = p["shin"] - thigh
            pose[f"ankle_{s}"] = 85.0 - 20.0 * p["up"]
        return pose, aims, []

    def floor_bones(self, p):
        if p["up"] > 0.99:
            return ("lowerarm*", "wrist*", "metacarpal*", "finger*", "lowerleg01*", "upperleg02*")
        return None


# --- dead bug ------------------------------------------------------------------------------------


class DeadBug(Exercise):
    """Supine, arms reaching to the ceiling, hips and knees at 90 deg (tabletop): straighten
    one leg toward the floor while the other stays above the hip, hold, bring it back;
    alternating (the article's legs-only version). Legs are posed by joint angles relative to
    the pelvis, which rests on the floor."""

    id = "dead_bug"
    faults = ("leg_not_straight", "other_knee_drift", "other_leg_moves")
    alternating = True
    fault_scope = {"leg_not_straight": "hold", "other_knee_drift": "track", "other_leg_moves": "track"}

    def timing(self, rng, tempo, fault, hold_s):
        hold = (hold_s or rng.uniform(1.0, 1.8)) * rng.uniform(0.95, 1.05)
        return dict(
            move_s=rng.uniform(1.3, 1.7) * tempo,
            hold_s=hold,
            return_s=rng.uniform(1.2, 1.6) * tempo,
            rest_s=rng.uniform(0.5, 0.9),
        )

    def script(self, body, plans, rng):
        bent = {"hip_flex": 50.0, "knee": 100.0, "ankle": -5.0}
        table = {"hip_flex": 90.0, "knee": 90.0, "ankle": 15.0}
        pose0 = {"arms": 0.0, "head_turn": rng.uniform(-15, 15), **{F + f: 0.0 for f in self.faults}}
        for s in ("l", "r"):
            pose0.update({f"{k}_{s}": v for k, v in bent.items()})
        tl = Timeline(pose0)
        tl.stay(rng.uniform(0.5, 0.9), "setup")
        tl.go(rng.uniform(0.9, 1.2), "setup", arms=1.0, head_turn=0.0)
        first, second = ("l", "r") if rng.random() < 0.5 else ("r", "l")
        tl.go(rng.uniform(0.8, 1.1), "setup", **{f"{k}_{first}": v for k, v in table.items()})
        tl.go(rng.uniform(0.8, 1.1), "setup", **{f"{k}_{second}": v for k, v in table.items()})
        tl.go(rng.uniform(0.5, 0.8), "setup", head_turn=rng.uniform(-10, 10))
        tl.go(rng.uniform(0.4, 0.6), "setup", head_turn=0.0)
        tl.stay(rng.uniform(0.8, 1.2), "rest")
        notes = []
        for i, plan in enumerate(plans):
            s = plan.side or "l"
            o = "r" if s == "l" else "l"
            start = tl.pose
            ext = {
                **start,
                f"hip_flex_{s}": rng.uniform(26, 34),
                f"knee_{s}": rng.uniform(0, 8),
                f"ankle_{s}": 20.0,
            }
            f = plan.fault
            if f == "leg_not_straight":
                ext[f"knee_{s}"] = rng.uniform(30, 37)
            elif f == "other_knee_drift":
                ext[f"hip_flex_{o}"] = 90.0 - rng.uniform(28, 36)
            elif f == "other_leg_moves":
                ext[f"knee_{o}"] = rng.uniform(35, 45)
            if f:
                ext[F + f] = 1.0
            notes.append(
                {
                    "knee_flexion_deg": round(ext[f"knee_{s}"], 1),
                    "other_hip_flexion_deg": round(ext[f"hip_flex_{o}"], 1),
                    "other_knee_flexion_deg": round(ext[f"knee_{o}"], 1),
                }
            )
            tl.go_to(plan.move_s, ext, "moving_out", i)
            tl.stay(plan.hold_s, "hold", i)
            tl.go_to(plan.return_s, start, "returning", i)
            tl.stay(plan.rest_s, "rest")
        tl.stay(rng.uniform(0.8, 1.2), "rest")
        return Motion(tl, anchor="hips", rep_notes=notes, wobble={"neck": 1.5, "spine": 0.4})

    def solve(self, body, p):
        beta = np.degrees(
            np.arcsin(np.clip((body.hip_back - body.shoulder_back) / body.length["trunk"], -0.3, 0.3))
        )
        pose = {"pitch": -90.0 - beta, "neck": beta + 4.0, "head_turn": p["head_turn"]}
        for s in ("l", "r"):
            pose.update(
                {
                    f"hip_flex_{s}": p[f"hip_flex_{s}"],
                    f"knee_{s}": p[f"knee_{s}"],
                    f"ankle_{s}": p[f"ankle_{s}"],
                    f"hip_abd_{s}": 4.0,
                }
            )
            # arms: alongside the body on the floor -> reaching to the ceiling
            a = p["arms"]
            pose.update(
                {
                    f"sh_flex_{s}": 8.0 + 82.0 * a,
                    f"sh_abd_{s}": 14.0 * (1 - a) + 6.0,
                    f"elbow_{s}": 8.0 * (1 - a),
                }
            )
        return pose, {}, []


EXERCISES: dict[str, type[Exercise]] = {
    e.id: e for e in (SegmentalBridge, BirdDog, HipHinge, PlankElbowsKnees, DeadBug)
}
