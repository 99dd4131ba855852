"""A self-contained HTML report of a session (no network needed to view it): the place to look back.

The annotated video is embedded by a relative link (it stays beside the report, so the folder can
be moved or zipped); clicking a rep in the table, a fault's key frame or a point of the plot
seeks the video there, and the plot shows where the video is. Also: the rep metric over time with
its thresholds, rep boundaries, holds and faults, the gauge metric against its target, a table
of reps with their quality scores, and the quality trend across sessions. Plots are made with
matplotlib and embedded as PNG data, like the key frames, so without the video (`--no-video`, or
a moved file) the report is still whole apart from the player.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from posecheck.av_video import frame_at
from posecheck.quality import set_quality
from posecheck.spec import ExerciseSpec

MAX_KEY_FRAMES = 12
KEY_FRAME_MAX_DELAY_S = 3.0  # how far into a long fault its key frame is taken


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _jpeg_data_uri(image: np.ndarray) -> str:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(buffer.tobytes()).decode("ascii") if ok else ""


def _figure_png(fig, tight: bool = True) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight" if tight else None)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return out.getvalue()


@dataclass(frozen=True)
class TimePlot:
    """A plot over time and where its time axis is, for a cursor drawn over the picture.

    `left`, `right`, `top`, `bottom` are the plotting area's edges as fractions of the picture's
    width and height (from its top-left corner); `t0`..`t1` the times at the left and right edges.
    """

    png: bytes
    t0: float
    t1: float
    left: float
    right: float
    top: float
    bottom: float


def metric_plot(report: dict[str, Any], spec: ExerciseSpec) -> TimePlot | None:
    """The rep metric and the gauge metric over time, with thresholds, reps, holds and faults."""
    series = report.get("series")
    if not series or not series["t"]:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.array(series["t"], dtype=float)
    rep_metric = np.array([np.nan if v is None else v for v in series["rep_metric"]], dtype=float)
    gauge = np.array([np.nan if v is None else v for v in series["gauge"]], dtype=float)
    panels = 2 if spec.gauge is not None and spec.gauge.metric != spec.reps.metric else 1
    fig, axes = plt.subplots(
        panels, 1, figsize=(10, 2.6 * panels + 0.6), sharex=True, squeeze=False, layout="constrained"
    )
    ax = axes[0][0]
    ax.plot(t, rep_metric, color="#1f5fa8", lw=1.4, label=spec.reps.metric)
    if not spec.reps.from_start:
        ax.axhline(spec.reps.rest, color="#888", ls=":", lw=1, label="rest threshold")
        ax.axhline(spec.reps.active, color="#444", ls="--", lw=1, label="rep threshold")
    for rep in report["reps"]:
        colour = "#3a9d3a" if rep["good"] else "#d9534f"
        ax.axvspan(rep["start_s"], rep["end_s"], color=colour, alpha=0.12)
        if rep["hold_start_s"] is not None and rep["hold_end_s"] is not None:
            ax.axvspan(rep["hold_start_s"], rep["hold_end_s"], color=colour, alpha=0.18)
        middle = (rep["start_s"] + rep["end_s"]) / 2
        ax.text(
            middle, 1.02, str(rep["index"] + 1), transform=ax.get_xaxis_transform(), ha="center", fontsize=9
        )
        for fault in rep["faults"]:
            ax.axvline(fault["start_s"], color="#d9534f", lw=1)
    ax.set_ylabel(spec.reps.metric)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Reps (green: good, red: with faults; darker: the hold)", fontsize=10, loc="left", pad=16)
    if panels == 2:
        gx = axes[1][0]
        gx.plot(t, gauge, color="#7a4fa8", lw=1.2, label=spec.gauge.label)
        gx.axhline(spec.gauge.target, color="#d9534f", ls="--", lw=1, label=f"target ({spec.gauge.good})")
        for rep in report["reps"]:
            gx.axvspan(rep["start_s"], rep["end_s"], color="#999", alpha=0.08)
        gx.set_ylabel(spec.gauge.metric)
        gx.legend(loc="upper right", fontsize=8)
    axes[-1][0].set_xlabel("time (s)")
    fig.canvas.draw()  # lays the axes out, so their positions below are final
    first, last = axes[0][0].get_position(), axes[-1][0].get_position()
    t0, t1 = axes[0][0].get_xlim()
    return TimePlot(
        png=_figure_png(fig, tight=False),
        t0=float(t0),
        t1=float(t1),
        left=float(first.x0),
        right=float(first.x1),
        top=float(1.0 - first.y1),
        bottom=float(1.0 - last.y0),
    )


def trend_plot(sessions: list[dict[str, Any]], mastery_quality: float) -> bytes | None:
    """Quality score of each session of this exercise over the days."""
    if len(sessions) < 1:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(sessions, key=lambda s: s["created"])
    times = [dt.datetime.fromisoformat(s["created"]) for s in ordered]
    fig, ax = plt.subplots(figsize=(10, 2.4))
    ax.plot(times, [s["quality"] for s in ordered], marker="o", color="#1f5fa8")
    ax.axhline(mastery_quality, color="#3a9d3a", ls="--", lw=1, label="mastery")
    ax.set_ylim(0, 105)
    if len(times) == 1:
        ax.set_xlim(times[0] - dt.timedelta(days=1), times[0] + dt.timedelta(days=1))
    ax.set_ylabel("quality")
    ax.legend(loc="lower right", fontsize=8)
    fig.autofmt_xdate()
    return _figure_png(fig)


def key_frames(report: dict[str, Any], video: Path | None) -> list[tuple[str, str, float]]:
    """(caption, image data URI, time in seconds) for the first occurrence of each fault in each rep."""
    if video is None or not Path(video).is_file():
        return []
    frames = []
    for rep in report["reps"]:
        for fault in rep["faults"]:
            if len(frames) >= MAX_KEY_FRAMES:
                return frames
            # the middle of the fault, when its message is on screen (capped for long faults)
            when = min((fault["start_s"] + fault["end_s"]) / 2, fault["start_s"] + KEY_FRAME_MAX_DELAY_S)
            when = max(when, fault["start_s"])
            image = frame_at(Path(video), when)
            if image is not None:
                caption = f"Rep {rep['index'] + 1} at {when:.1f} s: {fault['message']}"
                frames.append((caption, _jpeg_data_uri(image), when))
    return frames


def video_link(video: Path, page_dir: Path | None) -> str:
    """The video's address relative to the report's folder (so both can be moved together)."""
    video = Path(video).resolve()
    if page_dir is None:
        return urllib.parse.quote(video.name)
    try:
        relative = os.path.relpath(video, Path(page_dir).resolve())
    except ValueError:  # another drive (Windows): only an absolute address can reach it
        return video.as_uri()
    return urllib.parse.quote(Path(relative).as_posix())


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
.cards { display: flex; gap: 1rem; margin: 1rem 0; }
.card { background: #f4f6f8; border-radius: 8px; padding: 0.8rem 1.2rem; min-width: 9rem; }
.card b { display: block; font-size: 1.8rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #ddd; }
.good { color: #2e7d32; } .bad { color: #c62828; }
.frames { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }
figure { margin: 0; } figure img { width: 100%; border-radius: 6px; }
figcaption { font-size: 0.9rem; color: #444; }
img.plot { width: 100%; display: block; }
.note { color: #666; font-size: 0.9rem; }
.player { position: sticky; top: 0; z-index: 2; background: #fff; padding: 0.4rem 0;
  box-shadow: 0 6px 8px -8px #0006; text-align: center; }
.player video { max-width: 100%; max-height: 45vh; border-radius: 6px; background: #000; }
.player p { margin: 0.2rem 0 0; }
.timeplot { position: relative; }
.timeplot .cursor { position: absolute; width: 2px; margin-left: -1px; background: #e67e22;
  pointer-events: none; display: none; }
.seekable { cursor: pointer; } tr.seekable:hover, figure.seekable:hover { background: #eef4fb; }
tr.current { background: #fff4d6; }
"""

SEEK_PAST_S = 0.002  # seek just past a frame's start: report times are rounded to the millisecond

SCRIPT = """
(function () {
  var video = document.getElementById('session-video');
  if (!video) { return; }
  function seek(t) {
    video.currentTime = t + SEEK_PAST_S;
  }
  document.querySelectorAll('[data-seek]').forEach(function (el) {
    el.classList.add('seekable');
    el.tabIndex = 0;
    el.title = 'Show this moment in the video';
    el.addEventListener('click', function () { seek(parseFloat(el.dataset.seek)); });
    el.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { seek(parseFloat(el.dataset.seek)); }
    });
  });
  var plots = Array.prototype.slice.call(document.querySelectorAll('.timeplot'));
  plots.forEach(function (plot) {
    var d = plot.dataset, cursor = plot.querySelector('.cursor');
    cursor.style.top = (100 * d.top) + '%';
    cursor.style.height = (100 * (d.bottom - d.top)) + '%';
    plot.classList.add('seekable');
    plot.title = 'Click to show this moment in the video';
    plot.addEventListener('click', function (e) {
      var box = plot.getBoundingClientRect(), x = (e.clientX - box.left) / box.width;
      var f = (x - d.left) / (d.right - d.left);
      if (f >= 0 && f <= 1) { seek(+d.t0 + f * (d.t1 - d.t0)); }
    });
  });
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr[data-end]'));
  function show() {
    var t = video.currentTime;
    plots.forEach(function (plot) {
      var d = plot.dataset, cursor = plot.querySelector('.cursor');
      var f = (t - d.t0) / (d.t1 - d.t0);
      cursor.style.display = (f >= 0 && f <= 1) ? 'block' : 'none';
      cursor.style.left = (100 * (+d.left + f * (d.right - d.left))) + '%';
    });
    rows.forEach(function (row) {
      var inside = t >= +row.dataset.seek && t <= +row.dataset.end;
      row.classList.toggle('current', inside);
    });
  }
  function follow() { show(); if (!video.paused && !video.ended) { requestAnimationFrame(follow); } }
  video.addEventListener('play', follow);
  video.addEventListener('seeked', show);
  video.addEventListener('timeupdate', show);
  video.addEventListener('loadedmetadata', show);
})();
""".replace("SEEK_PAST_S", str(SEEK_PAST_S))


def _player(video: Path | None, page_dir: Path | None) -> list[str]:
    if video is not None and Path(video).is_file():
        src = video_link(video, page_dir)
        return [
            "<div class='player'>",
            f"<video id='session-video' controls preload='auto' playsinline src='{src}'></video>",
            "<p class='note'>Click a rep, a fault's picture or a point of the plot to see that moment.</p>",
            "</div>",
        ]
    if video is not None:
        name = html.escape(Path(video).name)
        return [f"<p class='note'>The annotated video ({name}) is no longer beside this report, so it "
                "cannot be played here. Everything else below is complete.</p>"]  # fmt: skip
    return ["<p class='note'>No annotated video was kept for this session (e.g. analysed with "
            "--no-video): everything else below is complete.</p>"]  # fmt: skip


def render_html(
    report: dict[str, Any],
    spec: ExerciseSpec,
    video: Path | None = None,
    sessions: list[dict[str, Any]] | None = None,
    mastery_quality: float = 80.0,
    page_dir: Path | None = None,
) -> str:
    """The whole report as one HTML document (images embedded; the video linked relative to
    `page_dir`, the folder the page is written to)."""
    e = html.escape
    quality = set_quality(report)
    summary = report["summary"]
    low, high = summary["target_reps"]
    target = str(high) if low == high else f"{low}-{high}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>posecheck: {e(spec.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(spec.name)}</h1>",
        f"<p class='sub'>{e(spec.phase.upper())} &middot; {e(report['created'])} &middot; "
        f"{e(report['input']['source'])} &middot; dose: {e(spec.dose.text)}</p>",
        "<div class='cards'>",
        f"<div class='card'>Quality<b>{quality['score']:.0f}</b>of 100</div>",
        f"<div class='card'>Reps<b>{summary['reps']}</b>of {target}</div>",
        f"<div class='card'>Good reps<b class='good'>{summary['good_reps']}</b>without faults</div>",
    ]
    if summary["hold_s"]["mean"] is not None:
        parts.append(f"<div class='card'>Mean hold<b>{summary['hold_s']['mean']:.1f} s</b>&nbsp;</div>")
    parts.append("</div>")
    if report.get("interrupted") or not report.get("complete", True):
        parts.append("<p class='bad'>This session stopped early: the report covers what was analysed.</p>")
    parts += _player(video, page_dir)

    plot = metric_plot(report, spec)
    if plot:
        edges = ("t0", "t1", "left", "right", "top", "bottom")
        geometry = " ".join(f"data-{name}='{getattr(plot, name):.5f}'" for name in edges)
        parts += [
            "<h2>Over time</h2>",
            f"<div class='timeplot' {geometry}>",
            f"<img class='plot' alt='metrics over time' src='{_png_data_uri(plot.png)}'>",
            "<div class='cursor'></div></div>",
        ]

    parts += ["<h2>Reps</h2><table><tr><th>#</th><th>side</th><th>time</th><th>hold</th><th>quality</th>"
              "<th>form</th></tr>"]  # fmt: skip
    for rep, score in zip(report["reps"], quality["rep_scores"], strict=True):
        faults = "; ".join(e(f["message"]) for f in rep["faults"]) or "good"
        parts.append(
            f"<tr data-seek='{rep['start_s']:.3f}' data-end='{rep['end_s']:.3f}'>"
            f"<td>{rep['index'] + 1}</td><td>{e(rep['side'])}</td>"
            f"<td>{rep['start_s']:.1f}-{rep['end_s']:.1f} s</td><td>{rep['hold_s']:.1f} s</td>"
            f"<td>{score:.0f}</td><td class='{'good' if rep['good'] else 'bad'}'>{faults}</td></tr>"
        )
    parts.append("</table>")
    if not report["reps"]:
        parts.append("<p>No reps were counted.</p>")

    frames = key_frames(report, video)
    if frames:
        parts.append("<h2>Faults, as the camera saw them</h2><div class='frames'>")
        for caption, uri, when in frames:
            parts.append(
                f"<figure data-seek='{when:.3f}'><img alt='{e(caption)}' src='{uri}'>"
                f"<figcaption>{e(caption)}</figcaption></figure>"
            )
        parts.append("</div>")

    if sessions:
        trend = trend_plot(sessions, mastery_quality)
        if trend:
            parts += [
                "<h2>Quality across sessions</h2>",
                f"<img class='plot' alt='quality trend' src='{_png_data_uri(trend)}'>",
            ]

    parts.append("<h2>What the camera checks, and what it cannot</h2><ul>")
    parts += [f"<li>{e(item)}</li>" for item in spec.checked]
    parts.append("</ul><p class='note'>Not checked:</p><ul class='note'>")
    parts += [f"<li>{e(item)}</li>" for item in spec.not_checked]
    parts.append("</ul>")
    parts.append(
        "<p class='note'>Quality: each rep starts at 100; a fault costs 30 plus up to 40 for how long it "
        "lasted, a short hold up to 50, a warning 10. The session score is the mean rep score times the "
        "share of the dose done.</p>"
    )
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts)


def write_html(path: Path, document: str) -> Path:
    from posecheck.report import write_text_atomic  # never a half-written file, even on a full disk

    return write_text_atomic(path, document)
