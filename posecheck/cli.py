"""The `posecheck` command line: a thin layer over the library.

Each command parses options, calls one library function and prints its result. A
`UserError` becomes one red line and exit code 2; `--debug` shows tracebacks.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from posecheck import __version__, stop_signals
from posecheck.errors import UserError

app = typer.Typer(
    help="posecheck watches your low back pain exercises through a camera: it counts reps and "
    "holds and tells you when your form goes wrong.\n\n"
    "Example: posecheck demo",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)
_debug = False


class Variant(StrEnum):
    lite = "lite"
    full = "full"
    heavy = "heavy"


class Side(StrEnum):
    auto = "auto"
    left = "left"
    right = "right"


ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="A PoseLandmarker .task file to use instead of the default (also: POSECHECK_MODEL).",
        envvar="POSECHECK_MODEL",
        show_envvar=True,
        dir_okay=False,
    ),
]
VariantOption = Annotated[
    Variant,
    typer.Option(
        "--model-variant",
        help="lite (fastest), full (shipped) or heavy (most accurate; downloaded once into the cache).",
    ),
]
SpecOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--spec", help="Your own exercise spec file or folder (repeatable); see exercise_specs/README.md."
    ),
]


CameraOption = Annotated[
    str,
    typer.Option(
        "--camera", "-c", help="Camera index (0, 1...), a stream URL, or a video file played as a camera."
    ),
]
HeadlessOption = Annotated[
    bool, typer.Option("--headless", help="No window: run and record only (tests, servers).")
]
SpeakOption = Annotated[
    bool, typer.Option("--speak", help="Say rep counts and form messages aloud (offline).")
]
FullscreenOption = Annotated[
    bool, typer.Option("--fullscreen", help="Start the window full screen (the f key toggles it).")
]


class Mirror(StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


MirrorOption = Annotated[
    Mirror,
    typer.Option("--mirror", help="Show the picture mirrored; auto = for exercises done facing the camera."),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"posecheck {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    global _debug
    _debug = debug


def _default_out(video: Path | None, landmarks: Path | None) -> Path:
    stem = (video or landmarks or Path("session")).name.split(".")[0]
    return Path("posecheck-out") / stem


def _run_analysis(
    *,
    video: Path | None,
    exercise: str,
    out: Path | None,
    model: Path | None,
    model_variant: Variant,
    side: Side,
    landmarks: Path | None,
    save_landmarks: bool,
    no_video: bool,
    spec_paths: list[Path] | None,
    history: bool = True,
) -> None:
    from posecheck.analysis import analyze
    from posecheck.model_store import resolve_model
    from posecheck.report import print_summary
    from posecheck.session_record import record_and_render
    from posecheck.spec import get_spec

    spec = get_spec(exercise, spec_paths)
    model_info = None if landmarks is not None else resolve_model(model, model_variant.value)
    outputs = analyze(
        spec,
        out or _default_out(video, landmarks),
        video=video,
        landmarks_file=landmarks,
        model=model_info,
        side=side.value,
        save_landmarks=save_landmarks,
        write_video=not no_video,
        show_progress=sys.stderr.isatty() or sys.stdout.isatty(),
    )
    with stop_signals.finishing():
        recorded = record_and_render(spec, outputs.report, outputs.files, "analyze", history)
        outputs.files["html report"] = recorded.html
        print_summary(outputs.report, outputs.files, console)
        _say_recorded(recorded)
    if outputs.report["interrupted"]:
        err_console.print(f"[yellow]{_stopped_by()}: the report of what was analysed so far was written.[/]")
        raise typer.Exit(stop_signals.exit_code())


def _stopped_by() -> str:
    name = stop_signals.received()
    return "Interrupted" if name in (None, "SIGINT") else f"Stopped by {name}"


def _say_recorded(recorded) -> None:
    if recorded.session_id is not None:
        console.print(f"[dim]Saved in your history as session {recorded.session_id}.[/]")
    if recorded.history_problem:
        err_console.print(f"[yellow]Not saved in the history: {recorded.history_problem}[/]")


HistoryOption = Annotated[
    bool,
    typer.Option(
        "--history/--no-history", help="Save the session in your history (see `posecheck history`)."
    ),
]


@app.command()
def analyze(
    video: Annotated[
        Path | None, typer.Argument(help="The video file to analyse (MP4, MOV, AVI...).", show_default=False)
    ] = None,
    exercise: Annotated[
        str, typer.Option("--exercise", "-e", help="Exercise id (see `posecheck exercises`).")
    ] = "segmental_bridge",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder [default: posecheck-out/<video name>].")
    ] = None,
    model: ModelOption = None,
    model_variant: VariantOption = Variant.full,
    side: Annotated[
        Side,
        typer.Option("--side", help="Body side to check in side views; auto = the side facing the camera."),
    ] = Side.auto,
    landmarks: Annotated[
        Path | None,
        typer.Option(
            "--landmarks", help="Re-run the checker on landmarks saved with --save-landmarks (no model)."
        ),
    ] = None,
    save_landmarks: Annotated[
        bool, typer.Option("--save-landmarks", help="Also save the pose landmarks as <video>.landmarks.npz.")
    ] = False,
    no_video: Annotated[bool, typer.Option("--no-video", help="Skip the annotated video.")] = False,
    spec: SpecOption = None,
    history: HistoryOption = True,
) -> None:
    """Analyse a recorded exercise video: count reps and holds, flag form faults.

    Writes an annotated video and a JSON report into the output folder and prints a summary.

    Example: posecheck analyze bridge.mp4 --exercise segmental_bridge --out results/
    """
    _run_analysis(
        video=video,
        exercise=exercise,
        out=out,
        model=model,
        model_variant=model_variant,
        side=side,
        landmarks=landmarks,
        save_landmarks=save_landmarks,
        no_video=no_video,
        spec_paths=spec,
        history=history,
    )


def _demo_clip() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sample_videos", here / "sample_videos"):
        clip = candidate / "bridge_side_demo.mp4"
        if clip.is_file():
            return clip
    raise UserError("The bundled demo clip is missing from this installation: reinstall posecheck.")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("posecheck-out/demo"),
    model: ModelOption = None,
    model_variant: VariantOption = Variant.full,
    history: HistoryOption = True,
) -> None:
    """Analyse the bundled sample clip (a glute bridge: 3 reps, the last not high enough).

    Example: posecheck demo --out demo-results/
    """
    _run_analysis(
        video=_demo_clip(),
        exercise="segmental_bridge",
        out=out,
        model=model,
        model_variant=model_variant,
        side=Side.auto,
        landmarks=None,
        save_landmarks=False,
        no_video=False,
        spec_paths=None,
        history=history,
    )


@app.command()
def exercises(
    exercise_id: Annotated[
        str | None, typer.Argument(help="Show one exercise in full.", show_default=False)
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Validate every spec and report problems.")] = False,
    spec: SpecOption = None,
) -> None:
    """List the exercises of the program by phase, or show one in full.

    Example: posecheck exercises segmental_bridge
    """
    from posecheck.spec import get_spec, load_specs

    specs = load_specs(spec)
    if check:
        console.print(f"[green]All {len(specs)} exercise specs are valid.[/]")
        return
    if exercise_id is not None:
        _show_spec(get_spec(exercise_id, spec))
        return
    table = Table(header_style="bold")
    for column in ("phase", "id", "exercise", "view", "dose", "checks"):
        table.add_column(
            column, no_wrap=column == "id", overflow="fold" if column != "checks" else "ellipsis"
        )
    for s in specs.values():
        checks = [rule.id for rule in s.rules] + (["hold"] if s.dose.hold_s and s.reps.timed_hold else [])
        table.add_row(s.phase.upper(), s.id, s.name, s.view, s.dose.text, "\n".join(checks) or "-")
    console.print(table)


def _show_spec(s) -> None:
    console.rule(f"[bold]{s.name}[/] ({s.id})")
    console.print(f"Phase: {s.phase.upper()} #{s.order}   camera view: {s.view}   dose: {s.dose.text}")
    console.print(s.summary)
    console.print("[bold]Program cues:[/]")
    for cue in s.cues:
        console.print(f"  - {cue}")
    console.print("[bold]What the camera checks:[/]")
    for item in s.checked:
        console.print(f"  - {item}")
    for rule in s.rules:
        conditions = " and ".join(c.describe() for c in rule.conditions)
        when = f"{rule.severity}, during {rule.during}: {conditions}"
        console.print(f'  - [cyan]{rule.id}[/] ({when}) -> "{rule.message}"')
    console.print("[bold]What it cannot check:[/]")
    for item in s.not_checked:
        console.print(f"  - {item}")
    console.print(f"[dim]Spec file: {s.source}[/]")


@app.command()
def live(
    exercise: Annotated[
        str, typer.Option("--exercise", "-e", help="Exercise id to start with (see `posecheck exercises`).")
    ] = "segmental_bridge",
    camera: CameraOption = "0",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for the reports [default: posecheck-out/live-<time>]."),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Also save the coached session as a video.")
    ] = False,
    headless: HeadlessOption = False,
    fullscreen: FullscreenOption = False,
    mirror: MirrorOption = Mirror.auto,
    speak: SpeakOption = False,
    side: Annotated[
        Side, typer.Option("--side", help="Body side to check; auto = the side facing the camera.")
    ] = Side.auto,
    model: ModelOption = None,
    model_variant: VariantOption = Variant.full,
    max_seconds: Annotated[
        float | None, typer.Option("--max-seconds", help="End the session after this many seconds.")
    ] = None,
    spec: SpecOption = None,
    history: HistoryOption = True,
) -> None:
    """Exercise in front of your camera with live coaching.

    Shows the picture with your skeleton, the rep count against the program's dose, the hold timer
    and form messages. Nothing is counted until you have held the start position through a short
    countdown. Keys: p pause, r restart set, s switch side, n next exercise, f full screen, q quit.
    Every way of ending writes the session report.

    Example: posecheck live --exercise segmental_bridge --camera 0 --record --fullscreen
    """
    import time as _time

    from posecheck.analysis import prepare_out_dir
    from posecheck.live import LiveSession
    from posecheck.model_store import resolve_model
    from posecheck.report import print_summary
    from posecheck.spec import get_spec, load_specs

    first = get_spec(exercise, spec)
    ordered = list(load_specs(spec).values())
    specs = [first] + [s for s in ordered[ordered.index(first) + 1 :]] if first in ordered else [first]
    model_info = resolve_model(model, model_variant.value)
    out_dir = prepare_out_dir(out or Path("posecheck-out") / _time.strftime("live-%Y%m%d-%H%M%S"))
    session = LiveSession(
        specs,
        camera,
        model_info,
        out_dir,
        headless=headless,
        record=record,
        speak=speak,
        side=side.value,
        max_seconds=max_seconds,
        fullscreen=fullscreen,
        mirror=mirror.value,
    )
    if session.speaker.problem:
        err_console.print(f"[yellow]Note: {session.speaker.problem}.[/]")
    outcome = session.run()
    with stop_signals.finishing():
        _record_live(session, "live", history)
        for report in outcome.reports:
            print_summary(report, {}, console)
        for label, path in outcome.files.items():
            console.print(f"{label}: {path}")
    if outcome.mean_latency_ms is not None:
        speed = f"{outcome.mean_fps:.1f} fps, mean latency {outcome.mean_latency_ms:.0f} ms"
        console.print(f"[dim]{outcome.frames} frames, {speed}[/]")
    endings = {
        "camera_stopped": "[yellow]The camera stopped delivering frames: "
        "the report of the session so far was written.[/]",
        "interrupted": f"[yellow]{_stopped_by()}: the report of the session so far was written.[/]",
        "window_closed": "Window closed: session ended and report written.",
    }
    if outcome.ended_by in endings:
        err_console.print(endings[outcome.ended_by])
    session.raise_if_failed()
    if outcome.ended_by == "interrupted":
        raise typer.Exit(stop_signals.exit_code())
    if outcome.ended_by == "camera_stopped":
        raise typer.Exit(3)


@app.command(name="eval")
def evaluate_clips(
    clips: Annotated[
        list[Path] | None, typer.Argument(help="Labelled clips (NAME.mp4 + NAME.json) or folders of them.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for eval.json.")] = Path(
        "posecheck-out/eval"
    ),
    cache: Annotated[
        Path, typer.Option("--cache", help="Landmark cache folder (re-used while the model is the same).")
    ] = Path("posecheck-out/landmark-cache"),
    tolerance_s: Annotated[
        float, typer.Option("--tolerance-s", help="Time tolerance when matching faults.")
    ] = 1.0,
    model: ModelOption = None,
    model_variant: VariantOption = Variant.full,
    spec: SpecOption = None,
) -> None:
    """Measure the checkers on labelled clips: rep counts, fault precision/recall, landmark error.

    Prints a table per exercise and per clip and writes eval.json (stable, for comparing versions).

    Example: posecheck eval sample_videos/
    """
    from posecheck.analysis import prepare_out_dir
    from posecheck.evaluation import evaluate, print_tables
    from posecheck.model_store import resolve_model
    from posecheck.report import write_json_atomic
    from posecheck.spec import load_specs

    paths = clips or [_demo_clip().parent]
    out_dir = prepare_out_dir(out)
    result = evaluate(
        paths,
        load_specs(spec),
        resolve_model(model, model_variant.value),
        cache,
        tolerance_s=tolerance_s,
        show_progress=sys.stderr.isatty(),
    )
    print_tables(result, console)
    write_json_atomic(result, out_dir / "eval.json")
    console.print(f"eval.json: {out_dir / 'eval.json'}")


def _record_live(session, kind: str, use_history: bool, config=None) -> None:
    from posecheck.session_record import record_and_render

    for spec_, report_, path in session.report_paths:
        files = {"report": path}
        if "recording" in session.files:
            files["recording"] = session.files["recording"]
        recorded = record_and_render(spec_, report_, files, kind, use_history, config)
        console.print(f"html report: {recorded.html}")
        _say_recorded(recorded)


@app.command()
def program(
    status: Annotated[
        bool, typer.Option("--status", help="Show where you stand in the program and what is next.")
    ] = False,
    camera: CameraOption = "0",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the reports.")] = None,
    headless: HeadlessOption = False,
    fullscreen: FullscreenOption = False,
    mirror: MirrorOption = Mirror.auto,
    speak: SpeakOption = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Program settings file (TOML) [default: ~/.config/posecheck/program.toml]."
        ),
    ] = None,
    model: ModelOption = None,
    model_variant: VariantOption = Variant.full,
) -> None:
    """Follow the ALIGN -> STABILIZE -> MAINTAIN program, one guided session a day.

    Runs the exercises of your current phase in the program's order with the program's dose,
    live coaching, rest between exercises and a quality score after each. An exercise is
    mastered after enough good sessions; the next phase unlocks only when the whole phase is.

    Example: posecheck program --status
    """
    import time as _time

    from posecheck.analysis import prepare_out_dir
    from posecheck.history import History
    from posecheck.live import LiveSession
    from posecheck.model_store import resolve_model
    from posecheck.progression import load_config, program_status
    from posecheck.spec import load_specs

    settings = load_config(config)
    specs = load_specs()
    with History() as store:
        standing = program_status(store, specs, settings)
    _print_status(standing)
    if status:
        return
    todo = [
        st.spec for st in standing.exercises.values()
        if st.spec.phase == standing.current_phase and st.unlocked and not st.mastered
    ]  # fmt: skip
    todo.sort(key=lambda sp: sp.order)
    if not todo:
        console.print("Nothing to do in this phase right now.")
        return
    out_dir = prepare_out_dir(out or Path("posecheck-out") / _time.strftime("program-%Y%m%d-%H%M%S"))
    session = LiveSession(
        todo, camera, resolve_model(model, model_variant.value), out_dir, headless=headless, speak=speak,
        stop_at_dose=True, rest_s=settings.rest_between_sets_s, fullscreen=fullscreen, mirror=mirror.value,
    )  # fmt: skip
    outcome = session.run()
    with stop_signals.finishing():
        _record_live(session, "program", True, settings)
    for spec_id, score in session.set_scores:
        console.print(f"{specs[spec_id].name}: set quality {score:.0f}/100")
    with History() as store:
        _print_status(program_status(store, specs, settings), brief=True)
    session.raise_if_failed()
    if outcome.ended_by == "interrupted":
        raise typer.Exit(stop_signals.exit_code())


def _print_status(standing, brief: bool = False) -> None:
    from posecheck.spec import PHASES

    if not brief:
        table = Table(title="Your program", header_style="bold")
        for column in ("phase", "exercise", "sessions", "recent quality", "state"):
            table.add_column(column)
        for phase in PHASES:
            for st in sorted(
                (s for s in standing.exercises.values() if s.spec.phase == phase), key=lambda s: s.spec.order
            ):
                if st.mastered:
                    state = "[green]mastered[/]"
                elif st.regressed:
                    state = f"[red]regressed[/]: {st.needs}"
                elif not st.unlocked:
                    state = f"[dim]locked: {st.needs}[/]"
                else:
                    state = f"[yellow]practising[/]: needs {st.needs}"
                recent = " ".join(f"{q:.0f}" for q in st.recent_scores) or "-"
                table.add_row(phase.upper(), st.spec.name, str(st.sessions), recent, state)
        console.print(table)
    console.print(f"Current phase: [bold]{standing.current_phase.upper()}[/]")
    if standing.next_exercise:
        console.print(f"Next exercise: [bold]{standing.exercises[standing.next_exercise].spec.name}[/]")
    if standing.next_phase_needs:
        console.print("To unlock the next phase: " + "; ".join(standing.next_phase_needs[:4])
                      + (" ..." if len(standing.next_phase_needs) > 4 else ""))  # fmt: skip


@app.command()
def history(
    exercise: Annotated[
        str | None, typer.Option("--exercise", "-e", help="Only this exercise's sessions.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many recent sessions to list.")] = 20,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write all sessions and reps to a .csv or .json file.")
    ] = None,
    delete: Annotated[
        int | None, typer.Option("--delete", help="Delete the session with this id (asks first).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="With --delete: do not ask.")] = False,
    import_report: Annotated[
        Path | None,
        typer.Option("--import", help="Add a session from its REPORT.json (e.g. one not saved before)."),
    ] = None,
) -> None:
    """List your stored sessions and each exercise's quality trend, export, delete or import them.

    Sessions that are not a real attempt (too short, nobody seen, counting never started, a
    re-check of saved landmarks, your own spec replacing a built-in one) are kept but do not
    count toward the program's progression.

    Example: posecheck history --exercise segmental_bridge
    """
    from posecheck.history import History

    with History() as store:
        if export is not None:
            console.print(f"Exported to {store.export(export)}")
            return
        if delete is not None:
            _delete_session(store, delete, yes)
            return
        if import_report is not None:
            session_id = store.import_report(import_report)
            counted = store.session(session_id)
            why = counted["not_counted_because"]
            console.print(f"Added as session {session_id}" + (f" (does not count: {why})." if why else "."))
            return
        sessions = store.sessions(exercise, limit)
        everything = store.sessions(exercise, counting_only=True)
        path = store.path
    if not sessions:
        console.print(f"No sessions yet in {path}. Analyse a video or start `posecheck live`.")
        return
    table = Table(title=f"Sessions ({path})", header_style="bold")
    for column in ("id", "when", "kind", "exercise", "reps", "good", "quality", "full dose", "counts"):
        table.add_column(column, no_wrap=column == "exercise", overflow="fold")
    for s in sessions:
        table.add_row(
            str(s["id"]), s["created"][:16].replace("T", " "), s["kind"], s["exercise_id"], str(s["reps"]),
            str(s["good_reps"]), f"{s['quality']:.0f}", "yes" if s["full_dose"] else "no",
            "yes" if s["counts"] else "[yellow]no[/]",
        )  # fmt: skip
    console.print(table)
    for s in sessions:
        if not s["counts"]:
            console.print(
                f"[dim]Session {s['id']} does not count toward progression: {s['not_counted_because']}.[/]"
            )
    trends = Table(title="Quality trend per exercise (oldest to newest)", header_style="bold")
    for column in ("exercise", "sessions", "quality", "best", "last"):
        trends.add_column(column)
    by_exercise: dict[str, list[float]] = {}
    for s in reversed(everything):
        by_exercise.setdefault(s["exercise_id"], []).append(s["quality"])
    for name, scores in sorted(by_exercise.items()):
        trends.add_row(name, str(len(scores)), _sparkline(scores), f"{max(scores):.0f}", f"{scores[-1]:.0f}")
    console.print(trends)


def _delete_session(store, session_id: int, yes: bool) -> None:
    stored = store.session(session_id)
    when = stored["created"][:16].replace("T", " ")
    what = (
        f"session {session_id} ({when}, {stored['exercise_id']}, {stored['reps']} reps, {stored['source']})"
    )
    if not yes and not typer.confirm(f"Delete {what} from your history?", default=False):
        console.print("Nothing deleted.")
        return
    store.delete_session(session_id)
    console.print(f"Deleted {what}. Its report and video files are left where they are.")


def _sparkline(scores: list[float]) -> str:
    bars = "▁▂▃▄▅▆▇█"
    return "".join(bars[min(int(score / 100 * len(bars)), len(bars) - 1)] for score in scores[-30:])


@app.command()
def report(
    session: Annotated[int, typer.Argument(help="Session id (see `posecheck history`).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file to write [default: posecheck-out/session-<id>.html]."),
    ] = None,
    spec: SpecOption = None,
) -> None:
    """Write the visual HTML report of a stored session (plots, key frames, reps, trend).

    Example: posecheck report 12 --out bridge-report.html
    """
    from posecheck.history import History
    from posecheck.html_report import render_html, write_html
    from posecheck.progression import load_config

    with History() as store:
        stored = store.session(session)
        sessions = store.sessions(stored["exercise_id"])
    spec = _spec_of_session(session, stored["report"], spec)
    video = stored["artifacts"].get("annotated video")
    target = out or Path("posecheck-out") / f"session-{session}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    document = render_html(
        stored["report"], spec, Path(video) if video else None, sessions, load_config().mastery_quality,
        page_dir=target.parent,
    )  # fmt: skip
    console.print(f"Report: {write_html(target, document)}")
    if video and not Path(video).is_file():
        console.print(f"[yellow]The annotated video {video} is gone: no video or key frames shown.[/]")


def _spec_of_session(session_id: int, report: dict, spec_paths: list[Path] | None):
    """The spec a stored session was made with: --spec, else the spec file it names, else built-in."""
    from posecheck.spec import get_spec, load_spec, load_specs

    exercise_id = report["exercise"]["id"]
    if spec_paths:
        return get_spec(exercise_id, spec_paths)
    spec_file = report["exercise"].get("spec_file")
    if spec_file and Path(spec_file).is_file():
        found = load_spec(Path(spec_file))
        if found.id == exercise_id:
            return found
    specs = load_specs()
    if exercise_id in specs:
        return specs[exercise_id]
    where = f" from {spec_file}, which is gone" if spec_file else ""
    raise UserError(
        f"Session {session_id} was made with your own exercise {exercise_id!r}{where}. "
        f"Pass its spec file: posecheck report {session_id} --spec MY_SPEC.toml"
    )


@app.command()
def model(
    model: ModelOption = None,
    model_variant: VariantOption = Variant.full,
) -> None:
    """Show which pose model file is used, its variant, sha256 and where it came from.

    Example: posecheck model --model-variant heavy
    """
    from posecheck.model_store import resolve_model

    info = resolve_model(model, model_variant.value)
    table = Table(show_header=False, show_edge=False)
    table.add_row("file", str(info.path))
    table.add_row("variant", info.variant or "unknown")
    table.add_row("sha256", info.sha256)
    table.add_row("origin", info.origin)
    table.add_row("known as", info.known_as or "[yellow]unknown hash: not a file posecheck knows[/]")
    console.print(table)


def main() -> None:
    """Entry point: run the app, turning user errors into one clear line."""
    stop_signals.install()
    try:
        status = app(standalone_mode=False)  # returns the code of a typer.Exit raised in a command
    except UserError as exc:
        if _debug:
            raise
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]Stopped.[/]")
        sys.exit(stop_signals.exit_code())
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("[yellow]Aborted.[/]")
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument...
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
