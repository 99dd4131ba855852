"""A small CPU z-buffer rasterizer (numba): triangles with per-vertex colours.

Depth and colours are interpolated perspective-correctly (through 1/z). Edge functions are
stepped incrementally along each row of a triangle's bounding box. Back faces can be culled
for closed meshes (the body), which halves the work.
"""

from __future__ import annotations

import numba as nb
import numpy as np

NEAR = 0.05


@nb.njit(cache=True, nogil=True)
def rasterize(px, py, depth, color, faces, cull, image, zbuf):  # pragma: no cover - compiled
    """Draw triangles into `image` (H, W, 3) float32 and `zbuf` (H, W) float32.

    px, py: (V,) pixel coordinates (pixel centres at +0.5); depth: (V,) camera-space z;
    color: (V, 3); faces: (T, 3) int32; cull: skip triangles facing away from the camera."""
    height, width = zbuf.shape
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        za, zb, zc = depth[a], depth[b], depth[c]
        if za < NEAR or zb < NEAR or zc < NEAR:
            continue
        ax, ay, bx, by, cx, cy = px[a], py[a], px[b], py[b], px[c], py[c]
        area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        if area == 0.0:
            continue
        if area < 0.0:
            if cull:
                continue
            b, c = c, b
            bx, by, cx, cy = cx, cy, bx, by
            zb, zc = zc, zb
            area = -area
        x0 = max(int(np.floor(min(ax, min(bx, cx)))), 0)
        x1 = min(int(np.ceil(max(ax, max(bx, cx)))), width - 1)
        y0 = max(int(np.floor(min(ay, min(by, cy)))), 0)
        y1 = min(int(np.ceil(max(ay, max(by, cy)))), height - 1)
        if x0 > x1 or y0 > y1:
            continue
        inv_area = 1.0 / area
        ia, ib, ic = 1.0 / za, 1.0 / zb, 1.0 / zc
        step_bc, step_ca, step_ab = -(cy - by), -(ay - cy), -(by - ay)
        for y in range(y0, y1 + 1):
            sy = y + 0.5
            sx = x0 + 0.5
            e_bc = (cx - bx) * (sy - by) - (cy - by) * (sx - bx)
            e_ca = (ax - cx) * (sy - cy) - (ay - cy) * (sx - cx)
            e_ab = (bx - ax) * (sy - ay) - (by - ay) * (sx - ax)
            for x in range(x0, x1 + 1):
                if e_bc >= 0.0 and e_ca >= 0.0 and e_ab >= 0.0:
                    wa, wb, wc = e_bc * inv_area * ia, e_ca * inv_area * ib, e_ab * inv_area * ic
                    z = 1.0 / (wa + wb + wc)
                    if z < zbuf[y, x]:
                        zbuf[y, x] = z
                        wa *= z
                        wb *= z
                        wc *= z
                        for k in range(3):
                            image[y, x, k] = wa * color[a, k] + wb * color[b, k] + wc * color[c, k]
                e_bc += step_bc
                e_ca += step_ca
                e_ab += step_ab


@nb.njit(cache=True, nogil=True)
def vertex_normals(vertices, faces):  # pragma: no cover - compiled
    """Area-weighted vertex normals of a triangle mesh (unit length)."""
    normals = np.zeros_like(vertices)
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        e1 = vertices[b] - vertices[a]
        e2 = vertices[c] - vertices[a]
        n0 = e1[1] * e2[2] - e1[2] * e2[1]
        n1 = e1[2] * e2[0] - e1[0] * e2[2]
        n2 = e1[0] * e2[1] - e1[1] * e2[0]
        for v in (a, b, c):
            normals[v, 0] += n0
            normals[v, 1] += n1
            normals[v, 2] += n2
    for v in range(normals.shape[0]):
        length = np.sqrt(normals[v, 0] ** 2 + normals[v, 1] ** 2 + normals[v, 2] ** 2)
        if length > 0:
            normals[v] /= length
    return normals


def cylinder(a: np.ndarray, b: np.ndarray, radius: float, sides: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A capped cylinder from a to b: vertices (2*sides+2, 3) and outward-facing faces."""
    axis = np.asarray(b, float) - np.asarray(a, float)
    axis_n = axis / np.linalg.norm(axis)
    helper = np.array([1.0, 0, 0]) if abs(axis_n[0]) < 0.9 else np.array([0, 1.0, 0])
    u = np.cross(axis_n, helper)
    u /= np.linalg.norm(u)
    w = np.cross(axis_n, u)
    ang = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = radius * (np.cos(ang)[:, None] * u + np.sin(ang)[:, None] * w)
    verts = np.concatenate([a + ring, b + ring, [a, b]])
    faces = []
    for i in range(sides):
        j = (i + 1) % sides
        faces += [(i, sides + j, sides + i), (i, j, sides + j)]
        faces += [(2 * sides, j, i), (2 * sides + 1, sides + i, sides + j)]
    return verts, np.array(faces, dtype=np.int32)
