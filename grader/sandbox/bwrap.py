"""The bubblewrap command line for one candidate run, and whether bubblewrap can run here.

Inside the sandbox the candidate's interpreter sees:
* the system's /usr (the C library, the dynamic loader), read-only;
* the base interpreter and its standard library, read-only, with every site-packages hidden;
* /sandbox/lib: the runner and its two helper modules, copied in read-only;
* /sandbox/site: only the packages the check needs (numpy, torch and what they import), each
  bound read-only from the installation;
* /sandbox/work: a small private tmpfs, its working directory;
* a fresh /proc and a minimal /dev.
Never the virtualenv, the project, the grader package, the rubrics, the store or the config.
New user, PID, network, IPC, UTS and cgroup namespaces; no capabilities; --die-with-parent;
--new-session; an empty environment but for a few fixed variables; the seccomp filter.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig

SANDBOX = "/sandbox"
LIB = f"{SANDBOX}/lib"
SITE = f"{SANDBOX}/site"
WORK = f"{SANDBOX}/work"
# bwrap's name, looked up on PATH (a module attribute so tests can point it elsewhere).
EXECUTABLE = "bwrap"
NAMESPACES = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]
# nobody inside: bubblewrap gives uid 0 inside its namespace every capability there.
IDENTITY = ["--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]


def find() -> str | None:
    return shutil.which(EXECUTABLE)


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = "/" + top
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


@functools.lru_cache(maxsize=4)
def probe(executable: str) -> str | None:
    """None when bubblewrap can create its namespaces here, else why not (its own words)."""
    try:
        proc = subprocess.run(
            [executable, *NAMESPACES, *IDENTITY, *_system_binds(), "--", "/usr/bin/true"],
            capture_output=True, timeout=20, stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{executable} cannot be started ({exc})"
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        # "bwrap: No permissions to create new namespace, likely because ... . See <url>": the words
        return lines[-1].split(". See ")[0].removeprefix("bwrap: ")[:300] if lines else f"bubblewrap exited with code {proc.returncode}"
    return None


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def interpreter() -> str:
    """The base interpreter (a virtualenv's python is a link to it)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def python_binds() -> tuple[list[tuple[str, str]], list[str]]:
    """(read-only binds, directories to hide under them) for the base interpreter and its stdlib."""
    exe = interpreter()
    paths = {exe}
    paths.add(os.path.realpath(os.path.dirname(os.__file__)))  # the stdlib, never a venv's
    for p in sys.path:
        if p.endswith("lib-dynload") and os.path.isdir(p):
            paths.add(os.path.realpath(p))
    libdir, soname = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
    if libdir and soname and os.path.exists(os.path.join(libdir, soname)):
        paths.add(os.path.realpath(os.path.join(libdir, soname)))
    binds = [(p, p) for p in sorted(paths) if not _under(p, "/usr") and not any(_under(p, q) for q in paths if q != p)]
    roots = ["/usr"] + [dest for _, dest in binds]
    hide: set[str] = set()
    candidates = list(site.getsitepackages()) + [site.getusersitepackages(), sys.prefix]
    for p in candidates + [os.path.join(r, "site-packages") for r in roots] + [os.path.join(r, "dist-packages") for r in roots]:
        real = os.path.realpath(p)
        if os.path.isdir(real) and any(_under(real, r) for r in roots):
            hide.add(real)
    for r in roots:  # Debian's interpreters keep packages in /usr/lib/python3/dist-packages
        for sub in ("lib/python3/dist-packages", "local/lib"):
            p = os.path.join(r, sub)
            if r == "/usr" and os.path.isdir(p):
                hide.add(p)
    return binds, sorted(hide)


def command(
    executable: str, packages: list[tuple[str, str]], files: list[tuple[int, str]], seccomp_fd: int | None,
    workdir_mb: int, env: dict[str, str], argv: list[str],
) -> list[str]:
    """`packages`: (source, name under /sandbox/site); `files`: (fd, path) copied in read-only."""
    binds, hide = python_binds()
    args = [executable, *NAMESPACES, *IDENTITY, *_system_binds()]
    for src, dest in binds:
        args += ["--ro-bind", src, dest]
    for path in hide:
        args += ["--tmpfs", path, "--remount-ro", path]
    for src, name in packages:
        args += ["--ro-bind", src, f"{SITE}/{name}"]
    for fd, dest in files:
        args += ["--ro-bind-data", str(fd), dest]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(1 << 20), "--tmpfs", "/dev/shm"]
    args += ["--size", str(workdir_mb << 20), "--perms", "0700", "--tmpfs", WORK, "--chdir", WORK]
    args += ["--clearenv"]
    for k, v in env.items():
        args += ["--setenv", k, v]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args + ["--", *argv]
