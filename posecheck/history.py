"""Session history in a local SQLite database that lasts.

Every session (an analysed file, a live session, a program session) is one row in `sessions`
with its reps in `reps` and the full JSON report, written in one transaction: a crash never
leaves half a session. The schema is versioned (`PRAGMA user_version`) and migrated forward
on open, inside the write transaction, so several posecheck processes starting together on a
fresh data folder create the tables once. A damaged, busy, full or read-only database gives a
message saying which, and is never overwritten, so earlier sessions are never lost.

Each session says whether it counts toward the program's progression (`counts`, with the
reason when it does not: see posecheck/session_counts.py); `progression.py` reads only those.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from posecheck.disk_space import free_bytes
from posecheck.errors import UserError
from posecheck.quality import set_quality
from posecheck.report import write_text_atomic
from posecheck.session_counts import why_not_counted

DATA_DIR_ENV = "POSECHECK_DATA_DIR"
SCHEMA_VERSION = 2
NO_ROOM_BYTES = 1_000_000  # an I/O error with less free space than this is a full disk


def _mark_non_sessions(db: sqlite3.Connection) -> None:
    """Schema 2: sessions stored before it are judged by the same rule as new ones."""
    for row_id, report_json in db.execute("SELECT id, report_json FROM sessions").fetchall():
        try:
            reason = why_not_counted(json.loads(report_json))
        except (ValueError, KeyError, TypeError):
            reason = "its report cannot be read"
        if reason is not None:
            db.execute(
                "UPDATE sessions SET counts = 0, not_counted_because = ? WHERE id = ?", (reason, row_id)
            )


MIGRATIONS: dict[int, list[str | Callable[[sqlite3.Connection], None]]] = {
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
    2: [
        "ALTER TABLE sessions ADD COLUMN counts INTEGER NOT NULL DEFAULT 1",  # 0: not for progression
        "ALTER TABLE sessions ADD COLUMN not_counted_because TEXT",
        _mark_non_sessions,
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
        """Say what really went wrong: only a file that is not (or no longer) a database is 'damaged'."""
        text = str(exc)
        code = getattr(exc, "sqlite_errorname", "") or ""
        where = f"The history database {self.path}"
        if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
            return UserError(
                f"{where} is busy (another posecheck is writing to it?). Try again in a moment; "
                "nothing was lost."
            )
        io_error = code.startswith("SQLITE_IOERR") or "disk I/O error" in text
        no_room = (free_bytes(self.path.parent) or 0) < NO_ROOM_BYTES
        if code.startswith("SQLITE_FULL") or "disk is full" in text or (io_error and no_room):
            return UserError(
                f"{where} cannot be written: the disk holding {self.path.parent} is full. "
                "Free some space and try again; nothing stored before was lost."
            )
        if code.startswith("SQLITE_READONLY") or "readonly" in text:
            return UserError(
                f"{where} is read-only (a read-only file or filesystem). Make it writable, or set "
                f"{DATA_DIR_ENV} to a writable folder."
            )
        if code.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
            if self.path.is_dir():
                what = "is a folder, not a file"
            elif not os.access(self.path.parent, os.W_OK):
                what = f"cannot be opened: its folder {self.path.parent} is read-only"
            else:
                what = "cannot be opened"
            return UserError(f"{where} {what}. Move it aside, or set {DATA_DIR_ENV} to another folder.")
        if io_error:
            return UserError(
                f"{where} could not be read or written (disk I/O error: {text}). Check the disk and "
                "that the folder is writable; posecheck has not changed the file."
            )
        if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "integrity check" in text:
            return UserError(
                f"{where} is damaged ({text}). posecheck has not changed it: your earlier sessions "
                "are still in that file. Move it aside (e.g. rename it to history.sqlite3.broken) to "
                "start a new history, or restore a backup."
            )
        return UserError(f"{where} could not be used ({text}). posecheck has not changed it.")

    def _check_and_migrate(self) -> None:
        version = self._schema_version()
        if version > 0:
            problem = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {problem}")
        if version < SCHEMA_VERSION:
            if version == 0:
                self._db.execute("PRAGMA journal_mode = WAL")
            with self._transaction():
                version = self._schema_version()  # again, under the write lock: another process may
                for target in range(version + 1, SCHEMA_VERSION + 1):  # have created it meanwhile
                    for step in MIGRATIONS[target]:
                        if callable(step):
                            step(self._db)
                        else:
                            self._db.execute(step)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _schema_version(self) -> int:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError(
                f"The history database {self.path} was written by a newer posecheck "
                f"(schema {version}, this one knows {SCHEMA_VERSION}): upgrade posecheck."
            )
        return version

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
        """Store one session (its report and reps) in one transaction; returns its id.

        Whether it counts toward progression is judged from the report (see session_counts.py).
        """
        quality = set_quality(report)
        exercise = report["exercise"]
        not_counted = why_not_counted(report)
        try:
            with self._transaction() as db:
                cursor = db.execute(
                    "INSERT INTO sessions (created, kind, exercise_id, phase, source, reps, good_reps,"
                    " quality, full_dose, complete, report_json, artifacts_json, counts, not_counted_because)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                        int(not_counted is None),
                        not_counted,
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

    def sessions(
        self, exercise_id: str | None = None, limit: int | None = None, counting_only: bool = False
    ) -> list[dict[str, Any]]:
        """Sessions, newest first (without the full report); `counting_only`: those that count
        toward progression."""
        query = (
            "SELECT id, created, kind, exercise_id, phase, source, reps, good_reps, quality,"
            " full_dose, complete, counts, not_counted_because FROM sessions WHERE 1"
        )
        args: list[Any] = []
        if exercise_id:
            query += " AND exercise_id = ?"
            args.append(exercise_id)
        if counting_only:
            query += " AND counts = 1"
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
        try:
            row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        except sqlite3.Error as exc:
            raise self._explain(exc) from exc
        if row is None:
            raise UserError(f"No session {session_id} in the history. `posecheck history` lists them.")
        data = dict(row)
        data["report"] = json.loads(data.pop("report_json"))
        data["artifacts"] = json.loads(data.pop("artifacts_json"))
        return data

    def delete_session(self, session_id: int) -> None:
        """Remove one session and its reps (in one transaction)."""
        self.session(session_id)  # a clear error if there is no such session
        try:
            with self._transaction() as db:
                db.execute("DELETE FROM reps WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        except sqlite3.Error as exc:
            raise self._explain(exc) from exc

    def find_session(self, report: dict[str, Any]) -> int | None:
        """The id of a stored session made from this very report, if there is one."""
        row = self._db.execute(
            "SELECT id FROM sessions WHERE created = ? AND exercise_id = ? AND source = ?",
            (report["created"], report["exercise"]["id"], report["input"]["source"]),
        ).fetchone()
        return None if row is None else int(row[0])

    def reps(self, session_id: int) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM reps WHERE session_id = ? ORDER BY idx", (session_id,))
        return [dict(row) for row in rows]

    def import_report(self, path: Path) -> int:
        """Store a session from its JSON report (e.g. one the busy database could not take)."""
        path = Path(path)
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"No report file {path}. Give the path of a <name>.report.json.") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UserError(f"Cannot read {path} as a posecheck report ({exc}).") from exc
        try:
            if not isinstance(report, dict) or report.get("schema_version") is None:
                raise KeyError("schema_version")
            set_quality(report)
            why_not_counted(report)
            report["created"], report["exercise"]["id"], report["input"]["source"]  # noqa: B018
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            raise UserError(
                f"{path} is not a posecheck session report (missing or wrong field {exc}). "
                "Import the <name>.report.json that `posecheck analyze` or `live` wrote."
            ) from exc
        existing = self.find_session(report)
        if existing is not None:
            raise UserError(f"{path} is already in the history as session {existing}.")
        artifacts = {"report": str(path.resolve())}
        if path.with_suffix(".html").is_file():
            artifacts["html report"] = str(path.with_suffix(".html").resolve())
        return self.add_session(report, "live" if "live" in report else "analyze", artifacts)

    def export(self, path: Path) -> Path:
        """Write all sessions with their reps as CSV (one row per rep) or JSON, by the file's suffix."""
        path = Path(path)
        if path.suffix.lower() not in (".json", ".csv"):
            raise UserError(f"Export to {path}: use a .csv or .json file name.")
        if not path.parent.is_dir():
            raise UserError(f"Cannot export to {path}: the folder {path.parent} does not exist.")
        try:
            return self._export(path)
        except OSError as exc:
            raise UserError(
                f"Cannot write the export {path} ({exc.strerror or exc}). Choose a writable folder."
            ) from exc

    def _export(self, path: Path) -> Path:
        sessions = list(reversed(self.sessions()))
        if path.suffix.lower() == ".json":
            data = [{**s, "reps": self.reps(s["id"])} for s in sessions]
            return write_text_atomic(path, json.dumps(data, indent=2) + "\n")
        handle = io.StringIO(newline="")
        writer = csv.writer(handle)
        writer.writerow(
            ["session", "created", "kind", "exercise", "phase", "session_quality", "rep", "side",
             "start_s", "end_s", "hold_s", "rep_quality", "faults"]
        )  # fmt: skip
        fields = ("idx", "side", "start_s", "end_s", "hold_s", "quality", "faults")
        for s in sessions:
            for rep in self.reps(s["id"]) or [None]:
                rep_cells = [rep[f] for f in fields] if rep else [""] * len(fields)
                writer.writerow(
                    [s["id"], s["created"], s["kind"], s["exercise_id"], s["phase"], s["quality"], *rep_cells]
                )
        return write_text_atomic(path, handle.getvalue())
