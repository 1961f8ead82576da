"""The SQLite store: every grading with its answer and full result. The schema is built and
upgraded by an ordered list of migrations; PRAGMA user_version records how far a file is."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

DB_ENV = "GRADER_DB"
# Gradings made by `grader evals run` (LLM judge, cached) are not a candidate's history.
_NOT_EVALS = "(source IS NULL OR source != 'evals')"

# Append only: never edit a migration that has shipped.
MIGRATIONS: list[str] = [
    # 1: gradings
    """
    CREATE TABLE gradings (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        question_id TEXT NOT NULL,
        category TEXT,
        rubric_version INTEGER NOT NULL,
        rubric_hash TEXT NOT NULL,
        judge_kind TEXT NOT NULL,
        judge_model TEXT NOT NULL,
        prompt_hash TEXT,
        judge_settings TEXT NOT NULL,
        answer TEXT NOT NULL,
        status TEXT NOT NULL,
        score REAL,
        max_score REAL NOT NULL,
        percent REAL,
        result TEXT NOT NULL
    );
    CREATE INDEX gradings_question ON gradings (question_id, created_at);
    """,
    # 2: identical requests are served from the store; where a grading came from
    """
    ALTER TABLE gradings ADD COLUMN cache_key TEXT;
    ALTER TABLE gradings ADD COLUMN source TEXT;
    CREATE INDEX gradings_cache ON gradings (cache_key);
    """,
    # 3: rubric regression runs, one row per graded case
    """
    CREATE TABLE eval_runs (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        baseline TEXT,
        judge_kind TEXT NOT NULL,
        judge_model TEXT NOT NULL,
        prompt_hash TEXT,
        judge_settings TEXT NOT NULL,
        bank_hash TEXT NOT NULL,
        questions TEXT NOT NULL,
        metrics TEXT NOT NULL,
        passed INTEGER NOT NULL
    );
    CREATE TABLE eval_results (
        run_id INTEGER NOT NULL REFERENCES eval_runs (id),
        question_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        rubric_hash TEXT NOT NULL,
        data TEXT NOT NULL,
        passed INTEGER NOT NULL,
        PRIMARY KEY (run_id, question_id, case_id)
    );
    CREATE INDEX eval_runs_baseline ON eval_runs (baseline, id);
    """,
    # 4: human grades of stored gradings
    """
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        grading_id INTEGER NOT NULL REFERENCES gradings (id),
        created_at TEXT NOT NULL,
        reviewer TEXT,
        percent REAL NOT NULL,
        verdicts TEXT NOT NULL,
        note TEXT
    );
    CREATE INDEX reviews_grading ON reviews (grading_id, id);
    """,
]


class StoreError(RuntimeError):
    pass


def default_db_path() -> Path:
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("grader")) / "grader.db"


def cache_key(answer: str, rubric_hash: str, prompt_hash: str | None, judge: dict[str, Any]) -> str:
    payload = json.dumps(
        {"answer": answer, "rubric": rubric_hash, "prompt": prompt_hash, "judge": judge},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Store:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE) so that two
            # processes writing at once queue on the lock instead of failing or losing rows.
            self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA busy_timeout = 60000")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot create the store {self.path}: {exc.strerror}") from None

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        with self.transaction():
            current = self.schema_version
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"the store {self.path} has schema version {current}, newer than this grader "
                    f"({len(MIGRATIONS)}); upgrade grader"
                )
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        for attempt in range(20):  # BEGIN IMMEDIATE can still meet a lock under heavy contention
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    # -- gradings ---------------------------------------------------------------------------

    def save(self, grading, answer: str, category: str | None, key: str | None, source: str | None = None) -> int:
        g = grading
        with self.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO gradings (created_at, question_id, category, rubric_version, rubric_hash,
                   judge_kind, judge_model, prompt_hash, judge_settings, answer, status, score,
                   max_score, percent, result, cache_key, source)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    g.created_at.isoformat(),
                    g.question_id,
                    category,
                    g.rubric_version,
                    g.rubric_hash,
                    g.judge.kind,
                    g.judge.model,
                    g.judge.prompt_hash,
                    json.dumps(g.judge.params, sort_keys=True, ensure_ascii=False),
                    answer,
                    g.status,
                    g.score,
                    g.max_score,
                    g.percent,
                    g.model_dump_json(),
                    key,
                    source,
                ),
            )
            return int(cur.lastrowid)

    def cached(self, key: str):
        """The latest graded (never unscored) result for an identical request."""
        from grader.grading.models import Grading

        row = self.conn.execute(
            "SELECT id, result FROM gradings WHERE cache_key = ? AND status = 'graded' ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
        if row is None:
            return None
        grading = Grading.model_validate_json(row["result"])
        grading.cached = True
        return row["id"], grading

    def has_cached(self, key: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM gradings WHERE cache_key = ? AND status = 'graded' LIMIT 1", (key,)
        ).fetchone()
        return row is not None

    def get(self, grading_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM gradings WHERE id = ?", (grading_id,)).fetchone()

    def history(
        self, question_id: str | None = None, category: str | None = None, limit: int = 20
    ) -> list[sqlite3.Row]:
        where, args = [_NOT_EVALS], []
        if question_id:
            where.append("question_id = ?")
            args.append(question_id)
        if category:
            where.append("category = ?")
            args.append(category)
        sql = "SELECT * FROM gradings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        return self.conn.execute(sql, (*args, limit)).fetchall()

    def graded_rows(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT id, created_at, question_id, category, percent, source FROM gradings "
            f"WHERE status = 'graded' AND {_NOT_EVALS} ORDER BY id"
        ).fetchall()

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM gradings").fetchone()[0]
