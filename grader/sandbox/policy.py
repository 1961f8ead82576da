"""What the sandbox may see and use, decided in the grading process: limits, environment, the
paths kept visible (the Python installation) and the paths hidden (store, config)."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUTPUT_CAP = 1 * 2**20  # bytes the candidate may print; also the largest file it may write
WORKDIR_MB = 32  # size of its working directory (a tmpfs where mount namespaces are available)
NPROC = 16  # processes and threads of the sandbox user (a fresh uid when run as root)
NOFILE = 64
CHECKER_FSIZE = 64 * 2**20  # the checker's result record
STARTUP_ALLOWANCE_S = 30.0  # interpreter, numpy, reference: on top of the candidate's time limit
SANDBOX_PACKAGE_DIR = str(Path(__file__).resolve().parent)


@dataclass
class Policy:
    workdir: str
    uid: int | None  # None: not root, keep our own user
    gid: int | None
    keep: list[str] = field(default_factory=list)
    hide: list[str] = field(default_factory=list)
    read_roots: list[str] = field(default_factory=list)

    def isolation_spec(self) -> dict:
        return {
            "uid": self.uid, "gid": self.gid, "keep": self.keep, "hide": self.hide,
            "workdir": self.workdir, "read_roots": self.read_roots,
        }


def python_paths() -> list[str]:
    """The installation the sandbox needs: prefixes (stdlib, venv) and site-packages. Not the
    project directory an editable install puts on sys.path."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for p in sys.path:
        if p and ("site-packages" in p or "dist-packages" in p) and os.path.isdir(p):
            paths.add(p)
    return sorted({os.path.realpath(p) for p in paths if p})


def hidden_paths(extra: list[str | os.PathLike[str]] | None = None) -> list[str]:
    """The grading store and the judge config (it may hold an API key), wherever they are."""
    found: list[str] = []
    for env in ("GRADER_DB", "GRADER_CONFIG"):
        if os.environ.get(env):
            found.append(os.environ[env])
    try:
        from platformdirs import user_config_dir, user_data_dir

        found += [os.path.join(user_data_dir("grader"), "grader.db"), user_data_dir("grader"), user_config_dir("grader")]
    except ImportError:  # pragma: no cover - a dependency of the package
        pass
    found += [os.fspath(p) for p in extra or []]
    out: list[str] = []
    for p in found:
        real = os.path.realpath(p)
        out += [real] + [real + suffix for suffix in ("-wal", "-shm", "-journal")]
    return sorted(set(out))


def sandbox_ids() -> tuple[int | None, int | None]:
    """As root, a uid/gid of its own per run (nobody's range is shared, and RLIMIT_NPROC counts
    per user): high, unnamed, and random so concurrent runs never share one."""
    if os.geteuid() != 0:
        return None, None
    n = 1_900_000_000 + secrets.randbelow(100_000_000)
    return n, n


def environment(workdir: str) -> dict[str, str]:
    """Nothing from the grader's environment: no keys, no HOME, no PYTHONPATH."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": workdir,
        "TMPDIR": workdir,
        "PYTHONHASHSEED": "0",  # set iteration order, hence results, do not vary between runs
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "VECLIB_MAXIMUM_THREADS": "1",
    }


def make_policy(workdir: str, extra_hidden: list[str | os.PathLike[str]] | None = None) -> Policy:
    uid, gid = sandbox_ids()
    keep = python_paths()
    return Policy(
        workdir=workdir, uid=uid, gid=gid, keep=keep, hide=hidden_paths(extra_hidden),
        read_roots=keep + [SANDBOX_PACKAGE_DIR],
    )
