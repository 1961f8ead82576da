"""The SQLite store: every grading with its answer and full result. The schema is built and
upgraded by an ordered list of migrations; PRAGMA user_version records how far a file is."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from grader.text.normalize import has_lone_surrogates

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
    # 5: source is practice, grade, batch or evals; a batch grading names its transcript
    """
    ALTER TABLE gradings ADD COLUMN candidate TEXT;
    UPDATE gradings SET candidate = rtrim(rtrim(substr(source, 7), '0123456789'), '#'), source = 'batch'
        WHERE source LIKE 'batch:%';
    UPDATE gradings SET source = 'grade' WHERE source = 'cli';
    CREATE INDEX gradings_source ON gradings (source, candidate);
    """,
    # 6: claims: the process grading a request holds its cache key until it has saved the result
    # (or its lease expires), so concurrent batches never pay for the same grading twice
    """
    CREATE TABLE claims (
        cache_key TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires REAL NOT NULL
    );
    """,
]


SOURCES = ("practice", "grade", "batch", "all")


def _scope(source: str | None, candidate: str | None) -> tuple[list[str], list[str]]:
    """WHERE clauses for whose gradings: by default the user's own (practice and grade); a
    candidate is a batch transcript, named by its path, file name or file stem."""
    if candidate:
        return ["source = 'batch'", "(candidate = ? OR candidate LIKE ? OR candidate LIKE ? OR candidate LIKE ?)"], [
            candidate, f"%/{candidate}", f"%/{candidate}.%", f"{candidate}.%"
        ]
    if source in (None, "own"):
        return ["(source IS NULL OR source IN ('practice', 'grade'))"], []
    if source == "all":
        return [_NOT_EVALS], []
    return ["source = ?"], [source]


class StoreError(RuntimeError):
    """The store cannot do what was asked; the message is one line naming the file and what to
    do. `grading` is the result that could not be saved, still good to show."""

    def __init__(self, message: str, grading=None):
        super().__init__(message)
        self.grading = grading


def explain(path: Path, exc: sqlite3.Error, action: str) -> str:
    """One line for an SQLite failure: what happened to which file, and what to do about it."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in detail or "not a database" in detail:
        return (
            f"the store {path} is damaged ({detail}); recover it with "
            f"`sqlite3 {path} \".recover\" | sqlite3 {path}.recovered`, then use the recovered file "
            f"(GRADER_DB or --db), or move the damaged one away to start afresh"
        )
    if code == sqlite3.SQLITE_FULL or "disk is full" in detail:
        return f"cannot {action} the store {path}: the disk is full; free space and run again"
    if code == sqlite3.SQLITE_IOERR or "disk I/O error" in detail:
        return f"cannot {action} the store {path}: disk I/O error (is the disk full or failing?); free space or check the disk, then run again"
    if code == sqlite3.SQLITE_READONLY or "readonly" in detail:
        return f"cannot {action} the store {path}: it is read-only; make it writable, or point GRADER_DB or --db at a writable file"
    return f"cannot {action} the store {path}: {detail}"


def _guarded(action: str):
    """Any SQLite failure in a store method becomes one StoreError line; a save keeps its grading."""

    def wrap(method):
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                grading = args[0] if method.__name__ == "save" and args else kwargs.get("grading")
                raise StoreError(explain(self.path, exc, action), grading) from None

        return inner

    return wrap


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
    # surrogatepass: a key is only hashed; save() refuses such an answer with one line
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def _private(path: Path) -> None:
    """Gradings are the user's own: the store is created mode 600 (SQLite gives its -wal and
    -shm files the same mode), and a store of ours left readable by others is tightened."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    st = path.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o077 and path.is_file():
        try:
            os.chmod(path, 0o600)
        except OSError:  # a read-only file system: the store is still read
            pass


class Store:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else default_db_path()
        self.read_only = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _private(self.path)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE) so that two
            # processes writing at once queue on the lock instead of failing or losing rows.
            self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA busy_timeout = 60000")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.migrate()
        except sqlite3.OperationalError as exc:
            if not self._open_read_only(exc):
                raise StoreError(explain(self.path, exc, "open")) from None
        except sqlite3.Error as exc:
            raise StoreError(explain(self.path, exc, "open")) from None
        except OSError as exc:
            raise StoreError(f"cannot create the store {self.path}: {exc.strerror}") from None

    def _open_read_only(self, exc: sqlite3.Error) -> bool:
        """A store that cannot be written (read-only file, directory or disk) still serves
        history and progress; saving then fails with one line. False when that cannot help."""
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM) or not self.path.is_file():
            return False
        try:
            self.conn.close()
        except sqlite3.Error:
            pass
        uri = self.path.resolve().as_uri()
        for mode in ("?mode=ro", "?immutable=1"):  # immutable: a WAL store whose -shm cannot be made
            try:
                self.conn = sqlite3.connect(uri + mode, uri=True, timeout=60, isolation_level=None, check_same_thread=False)
                self.conn.row_factory = sqlite3.Row
                version = self.schema_version
            except sqlite3.Error:
                continue
            if version < len(MIGRATIONS):
                raise StoreError(
                    f"the store {self.path} is read-only and needs an upgrade (schema {version} of "
                    f"{len(MIGRATIONS)}); make it writable once"
                )
            self.read_only = True
            return True
        return False

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
        if getattr(self, "_batched", False):  # inside save_many: one transaction for all rows
            yield self.conn
            return
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
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back (disk full, I/O error): keep the original error
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise

    def close(self) -> None:
        self.conn.close()

    # -- gradings ---------------------------------------------------------------------------

    @_guarded("save a grading to")
    def save(self, grading, answer: str, category: str | None, key: str | None, source: str | None = None,
             candidate: str | None = None) -> int:
        g = grading
        if has_lone_surrogates(answer):  # undecoded bytes: the CLI decodes every input first
            raise StoreError(f"cannot save a grading to the store {self.path}: the answer holds undecodable bytes", grading)
        if source and source.startswith("batch:"):  # "batch:<transcript>#<index>"
            candidate = candidate or source[len("batch:"):].rpartition("#")[0] or None
            source = "batch"
        with self.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO gradings (created_at, question_id, category, rubric_version, rubric_hash,
                   judge_kind, judge_model, prompt_hash, judge_settings, answer, status, score,
                   max_score, percent, result, cache_key, source, candidate)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
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
                    candidate,
                ),
            )
            return int(cur.lastrowid)

    @_guarded("save gradings to")
    def save_many(self, rows: list[tuple]) -> list[int]:
        """Each row: the arguments of save(). One transaction for all: a batch writes its
        gradings in a few short transactions instead of one per grading."""
        if not rows:
            return []
        with self.transaction():
            self._batched = True
            try:
                return [self.save(*row) for row in rows]
            finally:
                self._batched = False

    # -- claims: one process at a time grades a given request ---------------------------------

    @_guarded("claim a grading in")
    def claim(self, key: str, holder: str, ttl_s: float) -> bool:
        """Take the lease on `key` for `ttl_s` seconds unless another live holder has it."""
        now = time.time()
        with self.transaction() as conn:
            conn.execute("DELETE FROM claims WHERE cache_key = ? AND expires < ?", (key, now))
            conn.execute("INSERT OR IGNORE INTO claims (cache_key, holder, expires) VALUES (?,?,?)", (key, holder, now + ttl_s))
            row = conn.execute("SELECT holder FROM claims WHERE cache_key = ?", (key,)).fetchone()
        return row is not None and row[0] == holder

    @_guarded("renew claims in")
    def renew_claims(self, holder: str, ttl_s: float) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE claims SET expires = ? WHERE holder = ?", (time.time() + ttl_s, holder))

    @_guarded("release a claim in")
    def release(self, key: str, holder: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM claims WHERE cache_key = ? AND holder = ?", (key, holder))

    @_guarded("read")
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

    @_guarded("read")
    def has_cached(self, key: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM gradings WHERE cache_key = ? AND status = 'graded' LIMIT 1", (key,)
        ).fetchone()
        return row is not None

    @_guarded("read")
    def get(self, grading_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM gradings WHERE id = ?", (grading_id,)).fetchone()

    @_guarded("read")
    def history(
        self, question_id: str | None = None, category: str | None = None, limit: int = 20,
        source: str | None = None, candidate: str | None = None,
    ) -> list[sqlite3.Row]:
        where, args = _scope(source, candidate)
        if question_id:
            where.append("question_id = ?")
            args.append(question_id)
        if category:
            where.append("category = ?")
            args.append(category)
        sql = "SELECT * FROM gradings WHERE " + " AND ".join(where) + " ORDER BY id DESC LIMIT ?"
        return self.conn.execute(sql, (*args, limit)).fetchall()

    @_guarded("read")
    def graded_rows(self, source: str | None = None, candidate: str | None = None) -> list[sqlite3.Row]:
        """Graded rows, oldest first, of the user's own work (practice and grade) unless `source`
        ('practice', 'grade', 'batch', 'all') or a batch `candidate` says otherwise."""
        where, args = _scope(source, candidate)
        return self.conn.execute(
            "SELECT id, created_at, question_id, category, percent, source, candidate FROM gradings "
            f"WHERE status = 'graded' AND {' AND '.join(where)} ORDER BY id",
            args,
        ).fetchall()

    @_guarded("read")
    def candidates(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT candidate FROM gradings WHERE candidate IS NOT NULL ORDER BY candidate"
        ).fetchall()
        return [r[0] for r in rows]

    @_guarded("read")
    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM gradings").fetchone()[0]
