"""The body: anny's parametric human mesh, posed from anatomical joint angles.

Conventions (anny 0.6, "local-ref" pose parameterization): metres, world z up; in the rest
pose the subject stands at the origin facing -y with its left side toward +x. Each bone takes
a rotation expressed in a world-aligned reference frame that its ancestors carry along, so a
bone's global rotation is the product of the rotations down its chain. That makes a cheap
skeleton (bone heads) computable without the mesh, which the contact solvers use.

A pose is a flat dict of floats (degrees), see `POSE_DEFAULTS`:

* the root (pelvis): ``pitch`` tips the body forward about its left-right axis (0 standing,
  90 face down with the head toward -y, -90 face up with the head toward +y), ``roll`` turns
  the pelvis about the trunk axis, ``yaw`` about the vertical;
* ``spine`` flexion (+ rounds forward, - arches), ``spine_side``, ``spine_twist``, spread over
  the five spine bones; ``neck`` flexion (+ chin to chest) and ``head_turn``;
* per side (suffix ``_l``/``_r``): ``hip_flex`` (0 = thigh in line with the trunk, 90 = thigh
  forward), ``hip_abd``, ``knee`` flexion, ``ankle`` plantar flexion (0 = foot at right angles
  to the shin), ``sh_flex`` (0 = arm hanging along the trunk, 90 = forward, 180 = overhead),
  ``sh_abd``, ``elbow`` flexion, ``wrist`` flexion.

Joint angles are relative to the parent segment, so keyframes interpolate them without the
wrap-around trouble of world angles. `sagittal_to_joint` converts world sagittal angles (what
contact geometry is easiest to write in) to joint angles for an un-rolled body.
"""

from __future__ import annotations

import numpy as np

from posecheck.landmarks import LANDMARK_NAMES

SIDES = {"l": ("L", 1.0), "r": ("R", -1.0)}  # suffix -> (anny bone suffix, +x sign)

POSE_DEFAULTS: dict[str, float] = {
    "pitch": 0.0,
    "roll": 0.0,
    "yaw": 0.0,
    "spine": 0.0,
    "spine_side": 0.0,
    "spine_twist": 0.0,
    "neck": 0.0,
    "head_turn": 0.0,
    **{
        f"{k}_{s}": v
        for s in SIDES
        for k, v in {
            "hip_flex": 0.0,
            "hip_abd": 3.0,
            "knee": 0.0,
            "ankle": 0.0,
            "shin_abd": np.nan,
            "sh_flex": 0.0,
            "sh_abd": 8.0,
            "elbow": 5.0,
            "wrist": 0.0,
            "farm_abd": np.nan,
        }.items()
    },
}

# aimed segment -> (bone that rotates it, bone at its far end)
SEGMENTS = {
    "thigh": ("upperleg01", "lowerleg01"),
    "shin": ("lowerleg01", "foot"),
    "foot": ("foot", "toe3-1"),
    "uarm": ("upperarm01", "lowerarm01"),
    "farm": ("lowerarm01", "wrist"),
    "hand": ("wrist", "finger3-1"),
}
SPINE_BONES = ("spine05", "spine04", "spine03", "spine02", "spine01")
NECK_BONES = ("neck01", "neck02", "neck03")

MP33_NAMES = LANDMARK_NAMES  # MediaPipe's 33 landmarks, in its order
# Landmarks that anny's COCO regressor (skin-following vertex blends) gives directly.
_FROM_COCO = {
    "nose": "nose",
    "left_eye": "left_eye",
    "right_eye": "right_eye",
    "left_ear": "left_ear",
    "right_ear": "right_ear",
    "left_foot_index": "left_big_toe",
    "right_foot_index": "right_big_toe",
    **{
        f"{s}_{j}": f"{s}_{j}"
        for s in ("left", "right")
        for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel")
    },
}
# Hand landmarks from finger bone heads (joint centres of the distal knuckles).
_FROM_BONES = {"pinky": "finger5-3", "index": "finger2-3", "thumb": "finger1-3"}
APPROXIMATE_LANDMARKS = (
    "left_eye_inner",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye_outer",
    "mouth_left",
    "mouth_right",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
)


# --- rotations ---------------------------------------------------------------------------------


def rot_x(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])


def rot_z(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rotation of least angle that turns direction `a` into direction `b`."""
    a, b = normalize(a), normalize(b)
    axis = np.cross(a, b)
    s, c = float(np.linalg.norm(axis)), float(np.dot(a, b))
    if s < 1e-9:
        if c > 0:
            return np.eye(3)
        # opposite directions: half a turn about any axis perpendicular to a
        perp = normalize(np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0]))
        return 2.0 * np.outer(perp, perp) - np.eye(3)
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1.0 - c) * kx @ kx


def sagittal(angle_deg: float, frame: np.ndarray, lateral_deg: float = 0.0, sign: float = 1.0) -> np.ndarray:
    """A direction in `frame`'s sagittal plane: 0 = along its +z (up the trunk), 90 = anterior
    (its -y), 180 = down; then tilted by `lateral_deg` toward the side `sign` (+1 = its +x)."""
    a, lat = np.radians(angle_deg), np.radians(lateral_deg)
    d = np.cos(a) * frame[:, 2] - np.sin(a) * frame[:, 1]
    return np.cos(lat) * d + np.sin(lat) * sign * frame[:, 0]


def world_sagittal(angle_deg: float) -> np.ndarray:
    """A world direction in the y-z plane: 0 up, 90 toward -y, 180 down, 270 toward +y."""
    return sagittal(angle_deg, np.eye(3))


def sagittal_to_joint(pitch: float, spine: float = 0.0, **world: float) -> dict[str, float]:
    """Joint angles from world sagittal segment angles, for a body with no roll or yaw.

    Keywords are ``thigh_l``, ``shin_l``, ``foot_l``, ``uarm_l``, ``farm_l``, ``hand_l`` (and
    ``_r``): world sagittal angles as in `world_sagittal`. Each needs its parent segment given
    too (a shin needs its thigh). Returns only the joint angles that follow from them."""
    out: dict[str, float] = {}
    for s in SIDES:
        th, sh, ft = world.get(f"thigh_{s}"), world.get(f"shin_{s}"), world.get(f"foot_{s}")
        if th is not None:
            out[f"hip_flex_{s}"] = 180.0 - (th - pitch)
            if sh is not None:
                out[f"knee_{s}"] = sh - th
                if ft is not None:
                    out[f"ankle_{s}"] = ft - sh + 90.0
        ua, fa, hd = world.get(f"uarm_{s}"), world.get(f"farm_{s}"), world.get(f"hand_{s}")
        if ua is not None:
            out[f"sh_flex_{s}"] = 180.0 - (ua - pitch - spine)
            if fa is not None:
                out[f"elbow_{s}"] = ua - fa
                if hd is not None:
                    out[f"wrist_{s}"] = fa - hd
    return out


def full_pose(params: dict[str, float]) -> dict[str, float]:
    """Defaults filled in; NaN shin/forearm abduction means 'same as the thigh/upper arm'."""
    p = dict(POSE_DEFAULTS)
    p.update(params)
    for s in SIDES:
        if np.isnan(p[f"shin_abd_{s}"]):
            p[f"shin_abd_{s}"] = p[f"hip_abd_{s}"]
        if np.isnan(p[f"farm_abd_{s}"]):
            p[f"farm_abd_{s}"] = p[f"sh_abd_{s}"]
    return p


def root_rotation(p: dict[str, float]) -> np.ndarray:
    return rot_z(p["yaw"]) @ rot_x(p["pitch"]) @ rot_z(p["roll"])


def spine_rotation(p: dict[str, float]) -> np.ndarray:
    """One spine bone's share of the trunk's flexion, side bend and twist."""
    return rot_x(p["spine"] / 5) @ rot_y(p["spine_side"] / 5) @ rot_z(p["spine_twist"] / 5)


def neck_rotation(p: dict[str, float]) -> np.ndarray:
    return rot_x(p["neck"] / 3) @ rot_z(p["head_turn"] / 3)


# --- the body ----------------------------------------------------------------------------------


class Body:
    """One adult body shape (anny phenotype) that can be posed, frame by frame or in batches."""

    def __init__(self, phenotype: dict[str, float] | None = None, model=None) -> None:
        import anny
        import torch

        torch.set_grad_enabled(False)
        self._torch = torch
        self.model = model if model is not None else anny.Anny()
        self.bones = list(self.model.bone_labels)
        self.index = {name: i for i, name in enumerate(self.bones)}
        self.parent = np.array([int(p) for p in self.model.bone_parents])
        self.faces = self.model.get_triangular_faces().cpu().numpy().astype(np.int32)
        self.keypoints = anny.KeypointsRegressor.coco(self.model)
        self.coco_names = list(self.keypoints.labels)
        self.phenotype = {name: 0.5 for name in self.model.phenotype_labels}
        self.phenotype.update(phenotype or {})
        self._phen = {k: torch.tensor([float(v)], dtype=self.model.dtype) for k, v in self.phenotype.items()}
        rest = self.model(None, phenotype_kwargs=self._phen)
        self.rest_heads = rest["bone_poses"][0, :, :3, 3].cpu().numpy()
        self.rest_vertices = rest["vertices"][0].cpu().numpy()
        self.rest_coco = dict(zip(self.coco_names, self.keypoints(rest)[0].cpu().numpy(), strict=True))
        weights = self.model.vertex_bone_weights.cpu().numpy()
        bone_idx = self.model.vertex_bone_indices.cpu().numpy()
        self.vertex_bone = bone_idx[np.arange(len(bone_idx)), np.argmax(weights, axis=1)]
        self._weights, self._weight_bones = weights, bone_idx
        self._aimed = {}  # bone index -> (segment key, rest direction)
        for seg, (bone, tip) in SEGMENTS.items():
            for s, (suffix, _) in SIDES.items():
                i, j = self.index[f"{bone}.{suffix}"], self.index[f"{tip}.{suffix}"]
                self._aimed[i] = (f"{seg}_{s}", self.rest_heads[j] - self.rest_heads[i])
        self._spine = {self.index[b] for b in SPINE_BONES}
        self._neck = {self.index[b] for b in NECK_BONES}
        h = self.rest_heads
        self.length = {
            seg: float(np.linalg.norm(h[self.index[f"{tip}.L"]] - h[self.index[f"{bone}.L"]]))
            for seg, (bone, tip) in SEGMENTS.items()
        }
        hips = 0.5 * (h[self.index["upperleg01.L"]] + h[self.index["upperleg01.R"]])
        shoulders = 0.5 * (h[self.index["upperarm01.L"]] + h[self.index["upperarm01.R"]])
        self.length["trunk"] = float(np.linalg.norm(shoulders - hips))
        self.stature = float(self.rest_vertices[:, 2].max() - self.rest_vertices[:, 2].min())
        self._measure_padding()

    # -- rest-shape measures used by the contact solvers

    def _bone_vertices(self, *prefixes: str) -> np.ndarray:
        names = np.array(self.bones)[self.vertex_bone]
        return np.array([any(n.startswith(p) for p in prefixes) for n in names])

    def _measure_padding(self) -> None:
        """Soft-tissue distances from joint centres to the skin where the body rests on the floor."""
        v, h, ix = self.rest_vertices, self.rest_heads, self.index
        foot = self._bone_vertices("foot.L", "toe")
        self.ankle_height = float(h[ix["foot.L"], 2] - v[foot & (v[:, 0] > 0), 2].min())
        sh = h[ix["upperarm01.L"]]
        back = (np.abs(v[:, 2] - (sh[2] - 0.08)) < 0.04) & (np.abs(v[:, 0]) < 0.12)
        self.shoulder_back = float(v[back, 1].max() - sh[1])  # supine: shoulder joint above floor
        knee = h[ix["lowerleg01.L"]]
        near = (np.abs(v[:, 2] - (knee[2] - 0.03)) < 0.03) & (np.abs(v[:, 0] - knee[0]) < 0.07)
        self.knee_front = float(knee[1] - v[near, 1].min())  # kneeling: knee joint above floor
        elbow = h[ix["lowerarm01.L"]]
        near = np.linalg.norm(v - elbow, axis=1) < 0.06
        self.elbow_pad = float(np.max(np.linalg.norm(v[near] - elbow, axis=1)))
        hip = h[ix["upperleg01.L"]]
        seat = (np.abs(v[:, 2] - hip[2]) < 0.05) & (np.abs(v[:, 0]) < 0.15)
        self.hip_back = float(v[seat, 1].max() - hip[1])  # supine: hip joint above floor
        self.hip_front = float(hip[1] - v[seat, 1].min())  # prone: hip joint above floor
        self.palm = 0.028
        self.head_back = float(v[(v[:, 2] > h[ix["head"], 2]) & (np.abs(v[:, 0]) < 0.05), 1].max())

    # -- posing

    def local_rotations(
        self, params: dict[str, float], aims: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """(B, 3, 3) rotations of every bone for a pose; `aims` overrides segment directions
        (world space, e.g. ``{"uarm_l": d}``) computed by inverse kinematics."""
        p = full_pose(params)
        aims = aims or {}
        n = len(self.bones)
        local = np.tile(np.eye(3), (n, 1, 1))
        glob = np.zeros((n, 3, 3))
        local[0] = root_rotation(p)
        spine, neck = spine_rotation(p), neck_rotation(p)
        frames = {"legs": local[0], "arms": local[0] @ np.linalg.matrix_power(spine, 5)}
        for i in range(n):
            if i in self._spine:
                local[i] = spine
            elif i in self._neck:
                local[i] = neck
            parent = glob[self.parent[i]] if self.parent[i] >= 0 else np.eye(3)
            if i in self._aimed:
                key, rest_dir = self._aimed[i]
                target = aims.get(key)
                if target is None:
                    target = self._segment_direction(key, p, frames)
                local[i] = align(rest_dir, parent.T @ target)
            glob[i] = parent @ local[i]
        return local

    @staticmethod
    def _segment_direction(key: str, p: dict[str, float], frames: dict[str, np.ndarray]) -> np.ndarray:
        """World direction of one segment from the joint angles.

        Angles are summed down the chain and measured in the chain's body frame (the pelvis for
        legs, the chest for arms), so flexion stays in the limb's sagittal plane."""
        seg, s = key.split("_")
        sign = SIDES[s][1]
        if seg in ("thigh", "shin", "foot"):
            a_thigh = 180.0 - p[f"hip_flex_{s}"]
            a = {
                "thigh": a_thigh,
                "shin": a_thigh + p[f"knee_{s}"],
                "foot": a_thigh + p[f"knee_{s}"] - 90.0 + p[f"ankle_{s}"],
            }[seg]
            lat = p[f"hip_abd_{s}"] if seg == "thigh" else p[f"shin_abd_{s}"]
        else:
            a_uarm = 180.0 - p[f"sh_flex_{s}"]
            a = {
                "uarm": a_uarm,
                "farm": a_uarm - p[f"elbow_{s}"],
                "hand": a_uarm - p[f"elbow_{s}"] - p[f"wrist_{s}"],
            }[seg]
            lat = p[f"sh_abd_{s}"] if seg == "uarm" else p[f"farm_abd_{s}"]
        frame = frames["legs" if seg in ("thigh", "shin", "foot") else "arms"]
        return sagittal(a, frame, lat, sign)

    def skeleton(self, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bone heads (n, 3) and global rotations (n, 3, 3) of a pose, root at the origin."""
        n = len(self.bones)
        heads = np.zeros((n, 3))
        glob = np.zeros((n, 3, 3))
        for i in range(n):
            p = self.parent[i]
            if p < 0:
                glob[i] = local[i]
                continue
            glob[i] = glob[p] @ local[i]
            heads[i] = heads[p] + glob[p] @ (self.rest_heads[i] - self.rest_heads[p])
        return heads, glob

    def skin_points(self, vertex_ids: np.ndarray, local: np.ndarray) -> np.ndarray:
        """Posed positions of a few mesh vertices (linear blend skinning on the skeleton)."""
        heads, glob = self.skeleton(local)
        out = np.zeros((len(vertex_ids), 3))
        for k, v in enumerate(vertex_ids):
            for w, b in zip(self._weights[v], self._weight_bones[v], strict=True):
                if w > 0:
                    out[k] += w * (heads[b] + glob[b] @ (self.rest_vertices[v] - self.rest_heads[b]))
        return out

    def mesh(self, locals_: np.ndarray) -> dict[str, np.ndarray]:
        """Run anny on a batch of poses (B, n, 3, 3): vertices (B, V, 3), bone heads (B, n, 3),
        COCO keypoints (B, 23, 3) and MediaPipe's 33 landmarks (B, 33, 3), root at the origin."""
        torch = self._torch
        b = len(locals_)
        transforms = np.tile(np.eye(4), (b, len(self.bones), 1, 1))
        transforms[:, :, :3, :3] = locals_
        phen = {k: v.expand(b) for k, v in self._phen.items()}
        out = self.model(torch.as_tensor(transforms, dtype=self.model.dtype), phenotype_kwargs=phen)
        coco = self.keypoints(out).cpu().numpy()
        heads = out["bone_poses"][:, :, :3, 3].cpu().numpy()
        return {
            "vertices": out["vertices"].cpu().numpy(),
            "heads": heads,
            "coco": coco,
            "landmarks": self.landmarks33(coco, heads),
        }

    def landmarks33(self, coco: np.ndarray, heads: np.ndarray) -> np.ndarray:
        """MediaPipe's 33 pose landmarks (B, 33, 3) from COCO keypoints and bone heads."""
        c = {name: coco[:, i] for i, name in enumerate(self.coco_names)}
        pts: dict[str, np.ndarray] = {mp: c[src] for mp, src in _FROM_COCO.items()}
        for side, suffix in (("left", "L"), ("right", "R")):
            for name, bone in _FROM_BONES.items():
                pts[f"{side}_{name}"] = heads[:, self.index[f"{bone}.{suffix}"]]
        across = c["left_eye"] - c["right_eye"]  # face width direction, subject's right to left
        down = c["nose"] - 0.5 * (c["left_eye"] + c["right_eye"])
        for side, sign in (("left", 1.0), ("right", -1.0)):
            eye = c[f"{side}_eye"]
            pts[f"{side}_eye_inner"] = eye - sign * 0.2 * across
            pts[f"{side}_eye_outer"] = eye + sign * 0.2 * across
            pts[f"mouth_{side}"] = c["nose"] + 0.75 * down + sign * 0.28 * across
        return np.stack([pts[name] for name in MP33_NAMES], axis=1)
