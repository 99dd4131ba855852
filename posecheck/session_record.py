"""After a session: store it in the history and write its HTML report beside the JSON one.

A history that cannot be written (damaged, busy, full) never costs the session: the JSON report
is already on disk, the HTML report is still written, and the problem is returned as a message
saying how to add the report later (`posecheck history --import REPORT.json`). Whether the
session counts toward progression is decided from the report by session_counts.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posecheck.disk_space import disk_full_error, is_disk_full
from posecheck.errors import UserError
from posecheck.history import History
from posecheck.html_report import render_html, write_html
from posecheck.progression import ProgramConfig, load_config
from posecheck.spec import ExerciseSpec


@dataclass
class Recorded:
    session_id: int | None
    html: Path
    history_problem: str | None


def record_and_render(
    spec: ExerciseSpec,
    report: dict[str, Any],
    files: dict[str, Path],
    kind: str,
    use_history: bool = True,
    config: ProgramConfig | None = None,
) -> Recorded:
    """Store the session (unless use_history is False) and write `<name>.report.html`.

    `config` is the program's settings (`program --config`); by default the user's config file.
    """
    session_id, sessions, problem = None, [], None
    artifacts = {label: str(Path(path).resolve()) for label, path in files.items()}
    html_path = Path(files["report"]).with_suffix(".html")
    artifacts["html report"] = str(html_path.resolve())
    if use_history:
        try:
            with History() as history:
                session_id = history.add_session(report, kind, artifacts)
                sessions = history.sessions(spec.id)
        except UserError as exc:
            problem = (
                f"{exc} The report is kept in {files['report']}: add it later with "
                f"`posecheck history --import {files['report']}`."
            )
    document = render_html(
        report, spec, files.get("annotated video"), sessions, (config or load_config()).mastery_quality,
        page_dir=html_path.parent,
    )  # fmt: skip
    try:
        write_html(html_path, document)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        note = f"The JSON report {files['report']} was written; the HTML report was not."
        raise disk_full_error(html_path.parent, len(document.encode()), note) from exc
    return Recorded(session_id, html_path, problem)
