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

from posecheck import __version__
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
) -> None:
    from posecheck.analysis import analyze
    from posecheck.model_store import resolve_model
    from posecheck.report import print_summary
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
    print_summary(outputs.report, outputs.files, console)
    if outputs.report["interrupted"]:
        err_console.print("[yellow]Interrupted: the report of what was analysed so far was written.[/]")
        raise typer.Exit(130)


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
        table.add_column(column)
    for s in specs.values():
        table.add_row(s.phase.upper(), s.id, s.name, s.view, s.dose.text, "; ".join(s.checked) or "-")
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
    camera: Annotated[
        str,
        typer.Option(
            "--camera", "-c", help="Camera index (0, 1...), a stream URL, or a video file played as a camera."
        ),
    ] = "0",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for the reports [default: posecheck-out/live-<time>]."),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Also save the coached session as a video.")
    ] = False,
    headless: Annotated[
        bool, typer.Option("--headless", help="No window: run and record only (tests, servers).")
    ] = False,
    speak: Annotated[
        bool, typer.Option("--speak", help="Say rep counts and form messages aloud (offline).")
    ] = False,
    side: Annotated[
        Side, typer.Option("--side", help="Body side to check; auto = the side facing the camera.")
    ] = Side.auto,
    model: ModelOption = None,
    model_variant: VariantOption = Variant.full,
    max_seconds: Annotated[
        float | None, typer.Option("--max-seconds", help="End the session after this many seconds.")
    ] = None,
    spec: SpecOption = None,
) -> None:
    """Exercise in front of your camera with live coaching.

    Shows the picture with your skeleton, the rep count against the program's dose, the hold timer
    and form messages. Nothing is counted until you have held the start position through a short
    countdown. Keys: p pause, r restart set, s switch side, n next exercise, q quit. Every way of
    ending writes the session report.

    Example: posecheck live --exercise segmental_bridge --camera 0 --record
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
    )
    if session.speaker.problem:
        err_console.print(f"[yellow]Note: {session.speaker.problem}.[/]")
    outcome = session.run()
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
        "interrupted": "[yellow]Interrupted: the report of the session so far was written.[/]",
        "window_closed": "Window closed: session ended and report written.",
    }
    if outcome.ended_by in endings:
        err_console.print(endings[outcome.ended_by])
    if outcome.ended_by == "interrupted":
        raise typer.Exit(130)
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
    try:
        status = app(standalone_mode=False)  # returns the code of a typer.Exit raised in a command
    except UserError as exc:
        if _debug:
            raise
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]Stopped.[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("[yellow]Aborted.[/]")
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
