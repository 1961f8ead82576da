"""What the candidate's process may use, decided in the grading process: limits, environment,
the packages it may import, and whether code may run at all without OS isolation."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

OUTPUT_CAP = 1 * 2**20  # bytes the candidate may print; also the largest file it may write
WORKDIR_MB = 32  # size of its working directory (a tmpfs under bubblewrap)
NOFILE = 64
CHECKER_FSIZE = 64 * 2**20  # the checker's result record
STARTUP_ALLOWANCE_S = 30.0  # interpreter, numpy, reference: on top of the candidate's time limit
SANDBOX_PACKAGE_DIR = str(Path(__file__).resolve().parent)
# Always importable in the candidate's process: the runner's value encoding needs numpy.
BASE_MODULES = ("numpy",)

_allow_unsandboxed = False


def allow_unsandboxed(flag: bool) -> None:
    """Run candidates' code even where no OS isolation can be set up (--allow-unsandboxed-code,
    config `allow_unsandboxed_code`): the code can then read and change whatever the user can."""
    global _allow_unsandboxed
    _allow_unsandboxed = bool(flag)


def unsandboxed_allowed() -> bool:
    return _allow_unsandboxed


def environment(home: str) -> dict[str, str]:
    """Nothing from the grader's environment: no keys, no HOME, no PYTHONPATH."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONHASHSEED": "0",  # set iteration order, hence results, do not vary between runs
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "VECLIB_MAXIMUM_THREADS": "1",
    }


_PROBE = r"""
import importlib, json, sys
def maps():
    try:
        with open("/proc/self/maps") as f:
            return {p[5].strip() for p in (line.split(None, 5) for line in f) if len(p) == 6}
    except OSError:
        return set()
before_modules, before_maps = set(sys.modules), maps()
for name in sys.argv[1:]:
    importlib.import_module(name)
files = [getattr(m, "__file__", None) for k, m in list(sys.modules.items()) if k not in before_modules]
files += sorted(maps() - before_maps)
print(json.dumps([f for f in files if f]))
"""


def _site_dirs() -> list[str]:
    return sorted(
        {os.path.realpath(p) for p in sys.path if p and ("site-packages" in p or "dist-packages" in p) and os.path.isdir(p)},
        key=len, reverse=True,
    )


@functools.lru_cache(maxsize=16)
def package_entries(modules: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(source, name) of each top-level entry of site-packages that importing `modules` touches
    (found by importing them once in a separate interpreter: its modules and mapped libraries),
    with the `<name>.libs` directories wheels keep their bundled libraries in. Never the grader."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    env.update(OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], capture_output=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )
    if out.returncode != 0:
        last = (out.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        raise RuntimeError(f"importing {', '.join(modules)} failed: {last}")
    sites = _site_dirs()
    found: dict[str, str] = {}
    for f in json.loads(out.stdout):
        real = os.path.realpath(f)
        for s in sites:
            if real.startswith(s + "/"):
                top = real[len(s) + 1 :].split("/")[0]
                if top not in ("grader", "__pycache__") and not top.endswith((".pth", ".dist-info")):
                    found[top] = os.path.join(s, top)
                    libs = os.path.join(s, top.split(".")[0] + ".libs")
                    if os.path.isdir(libs):
                        found[os.path.basename(libs)] = libs
                break
    return tuple(sorted((src, name) for name, src in found.items()))
