"""Session history in a local SQLite database that lasts.

Every session (an analysed file, a live session, a program session) is one row in `sessions`
with its reps in `reps` and the full JSON report, written in one transaction: a crash never
leaves half a session. The schema is versioned (`PRAGMA user_version`) and migrated forward
on open. A damaged or busy database gives a clear message and is never overwritten, so earlier
sessions are never lost.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from posecheck.errors import UserError
from posecheck.quality import set_quality

DATA_DIR_ENV = "POSECHECK_DATA_DIR"
SCHEMA_VERSION = 1
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created TEXT NOT NULL,
            kind TEXT NOT NULL,              -- analyze | live | program
            exercise_id TEXT NOT NULL,
            phase TEXT NOT NULL,
            source TEXT NOT NULL,
            reps INTEGER NOT NULL,
            good_reps INTEGER NOT NULL,
            quality REAL NOT NULL,           -- 0-100, see posecheck/quality.py
            full_dose INTEGER NOT NULL,      -- 1 when the program's dose was completed
            complete INTEGER NOT NULL,       -- 0 when interrupted
            report_json TEXT NOT NULL,
            artifacts_json TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE reps (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            side TEXT NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            hold_s REAL NOT NULL,
            quality REAL NOT NULL,
            faults TEXT NOT NULL,            -- comma-separated rule ids
            PRIMARY KEY (session_id, idx)
        )""",
        "CREATE INDEX sessions_by_exercise ON sessions (exercise_id, created)",
    ],
}


def data_dir() -> Path:
    """$POSECHECK_DATA_DIR, else $XDG_DATA_HOME/posecheck, else ~/.local/share/posecheck."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "posecheck"


def default_path() -> Path:
    return data_dir() / "history.sqlite3"


class History:
    """The history database. Use as a context manager or call close()."""

    def __init__(self, path: Path | None = None, timeout_s: float = 5.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys = ON")
            self._check_and_migrate()
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from exc
        except OSError as exc:
            raise UserError(
                f"Cannot open the history database {self.path} ({exc.strerror or exc}). "
                f"Set {DATA_DIR_ENV} to a writable folder."
            ) from exc

    def _explain(self, exc: sqlite3.Error) -> UserError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return UserError(
                f"The history database {self.path} is busy (another posecheck is writing to it?). "
                "Try again in a moment; nothing was lost."
            )
        return UserError(
            f"The history database {self.path} is damaged ({text}). posecheck has not changed it: "
            "your earlier sessions are still in that file. Move it aside (e.g. rename it to "
            "history.sqlite3.broken) to start a new history, or restore a backup."
        )

    def _check_and_migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError(
                f"The history database {self.path} was written by a newer posecheck "
                f"(schema {version}, this one knows {SCHEMA_VERSION}): upgrade posecheck."
            )
        if version > 0:
            problem = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {problem}")
        if version < SCHEMA_VERSION:
            self._db.execute("PRAGMA journal_mode = WAL")
            with self._transaction():
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[target]:
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------

    def add_session(self, report: dict[str, Any], kind: str, artifacts: dict[str, str] | None = None) -> int:
        """Store one session (its report and reps) in one transaction; returns its id."""
        quality = set_quality(report)
        exercise = report["exercise"]
        try:
            with self._transaction() as db:
                cursor = db.execute(
                    "INSERT INTO sessions (created, kind, exercise_id, phase, source, reps, good_reps,"
                    " quality, full_dose, complete, report_json, artifacts_json)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        report["created"],
                        kind,
                        exercise["id"],
                        exercise["phase"],
                        report["input"]["source"],
                        report["summary"]["reps"],
                        report["summary"]["good_reps"],
                        quality["score"],
                        int(quality["full_dose"]),
                        int(report["complete"]),
                        json.dumps(report),
                        json.dumps(artifacts or {}),
                    ),
                )
                session_id = int(cursor.lastrowid)
                for rep, score in zip(report["reps"], quality["rep_scores"], strict=True):
                    db.execute(
                        "INSERT INTO reps VALUES (?,?,?,?,?,?,?,?)",
                        (
                            session_id,
                            rep["index"],
                            rep["side"],
                            rep["start_s"],
                            rep["end_s"],
                            rep["hold_s"],
                            score,
                            ",".join(f["rule"] for f in rep["faults"]),
                        ),
                    )
        except sqlite3.Error as exc:
            raise self._explain(exc) from exc
        return session_id

    # --- reading ---------------------------------------------------------------------------

    def sessions(self, exercise_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Sessions, newest first (without the full report)."""
        query = (
            "SELECT id, created, kind, exercise_id, phase, source, reps, good_reps, quality,"
            " full_dose, complete FROM sessions"
        )
        args: list[Any] = []
        if exercise_id:
            query += " WHERE exercise_id = ?"
            args.append(exercise_id)
        query += " ORDER BY created DESC, id DESC"
        if limit:
            query += " LIMIT ?"
            args.append(limit)
        try:
            return [dict(row) for row in self._db.execute(query, args)]
        except sqlite3.Error as exc:
            raise self._explain(exc) from exc

    def session(self, session_id: int) -> dict[str, Any]:
        """One session with its report and artifacts (e.g. the annotated video)."""
        row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise UserError(f"No session {session_id} in the history. `posecheck history` lists them.")
        data = dict(row)
        data["report"] = json.loads(data.pop("report_json"))
        data["artifacts"] = json.loads(data.pop("artifacts_json"))
        return data

    def reps(self, session_id: int) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM reps WHERE session_id = ? ORDER BY idx", (session_id,))
        return [dict(row) for row in rows]

    def export(self, path: Path) -> Path:
        """Write all sessions with their reps as CSV (one row per rep) or JSON, by the file's suffix."""
        path = Path(path)
        sessions = list(reversed(self.sessions()))
        if path.suffix.lower() == ".json":
            data = [{**s, "reps": self.reps(s["id"])} for s in sessions]
            path.write_text(json.dumps(data, indent=2) + "\n")
        elif path.suffix.lower() == ".csv":
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(
                    ["session", "created", "kind", "exercise", "phase", "session_quality", "rep", "side",
                     "start_s", "end_s", "hold_s", "rep_quality", "faults"]
                )  # fmt: skip
                for s in sessions:
                    for rep in self.reps(s["id"]) or [None]:
                        fields = ("idx", "side", "start_s", "end_s", "hold_s", "quality", "faults")
                        rep_cells = [rep[f] for f in fields] if rep else [""] * len(fields)
                        writer.writerow(
                            [
                                s["id"],
                                s["created"],
                                s["kind"],
                                s["exercise_id"],
                                s["phase"],
                                s["quality"],
                                *rep_cells,
                            ]
                        )
        else:
            raise UserError(f"Export to {path}: use a .csv or .json file name.")
        return path
