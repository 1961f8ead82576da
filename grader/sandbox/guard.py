"""In-process guard for the candidate's process: a `sys.addaudithook` policy.

A tripwire, not a boundary: code in the same process can switch an audit hook off (bubblewrap,
seccomp and the limits are the boundary). It catches the forbidden operation early and *names*
it, so the report can say "tried to open a network connection" instead of a bare crash. The first forbidden operation reports itself to the checking process and ends the
candidate's process at once: a `try/except` around it cannot hide it. Stdlib only.
"""

from __future__ import annotations

import _thread
import json
import os
import sys

_PROCESS = {"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "pty.spawn", "os.startfile", "webbrowser.open"}
_SIGNAL = {"os.kill", "os.killpg", "signal.pthread_kill"}
_LIMITS = {"resource.setrlimit", "resource.prlimit"}
_LINK = {"os.symlink", "os.link"}
_NETWORK_NAMES = {"http.client.connect", "urllib.Request", "ftplib.connect", "smtplib.connect", "imaplib.open", "nntplib.connect", "poplib.connect", "telnetlib.Telnet.open"}
_PREFIXES = (("socket.", "network"), ("ctypes.", "native"), ("syslog.", "network"), ("_ctypes.", "native"))
# event -> (indices of path arguments, writes?)
_READS = {
    "os.listdir": (0,), "os.scandir": (0,), "os.walk": (0,), "glob.glob": (0,), "glob.glob/2": (0,),
    "os.listxattr": (0,), "os.getxattr": (0,), "pathlib.Path.glob": (0,), "pathlib.Path.rglob": (0,),
}
_WRITES = {
    "os.chdir": (0,), "os.mkdir": (0,), "os.rmdir": (0,), "os.remove": (0,), "os.rename": (0, 1),
    "os.truncate": (0,), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,), "os.setxattr": (0,),
    "os.removexattr": (0,), "shutil.rmtree": (0,), "shutil.move": (0, 1), "shutil.chown": (0,),
    "shutil.copyfile": (1,), "shutil.copymode": (1,), "shutil.copystat": (1,), "shutil.copytree": (1,),
    "shutil.make_archive": (0,), "shutil.unpack_archive": (1,), "tempfile.mkstemp": (0,), "tempfile.mkdtemp": (0,),
    "sqlite3.connect": (0,),
}
_READ_TOO = {"shutil.copyfile": (0,), "shutil.copytree": (0,), "shutil.copymode": (0,), "shutil.copystat": (0,), "shutil.unpack_archive": (0,)}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_DEVICES = {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"}
# System facts libraries read when they load (CPU count, memory, time zones: torch, OpenBLAS).
_SYSTEM_INFO = (
    "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/sys/devices/system/cpu", "/sys/fs/cgroup",
    "/usr/share/zoneinfo", "/usr/lib/locale",
)
_OWN_PROC = frozenset({"maps", "status", "stat", "statm", "limits", "cgroup", "cpuset", "smaps", "mountinfo", "auxv"})


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def install(channel_fd: int, workdir: str, read_roots: list[str]) -> None:
    """After this, the process may read only under `read_roots` and `workdir` and write only under
    `workdir`; no network, processes, signals, ctypes or rlimit changes."""
    workdir = os.path.realpath(workdir)
    roots = [os.path.realpath(r) for r in read_roots] + [workdir]
    own_proc = os.path.realpath("/proc/self")  # as this /proc names it (PID namespaces differ)
    realpath, fspath, write, thread_id = os.path.realpath, os.fspath, os.write, _thread.get_ident
    busy: set[int] = set()  # threads inside the hook (per thread: another thread must not slip by)

    def stop(category: str, event: str, target: str | None = None) -> None:
        record = {"ev": "blocked", "cat": category, "event": event, "target": target}
        try:
            write(channel_fd, (json.dumps(record) + "\n").encode())
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:
                    pass
            os._exit(3)

    def resolve(p: object) -> str | None:
        # Only exact stdlib path types: a custom __fspath__ could answer differently the next time.
        if isinstance(p, int) and not isinstance(p, bool):
            return None  # an already-open descriptor was checked when it was opened
        if type(p) not in (str, bytes) and type(p).__module__ != "pathlib":
            raise TypeError
        text = os.fsdecode(fspath(p))  # type: ignore[arg-type]
        return realpath(text) if text else realpath(".")

    def check_path(event: str, p: object, writing: bool) -> None:
        if p is None and event in ("os.listdir", "os.scandir"):
            p = "."
        if event == "sqlite3.connect" and isinstance(p, str) and (p in ("", ":memory:") or p.startswith("file::memory:")):
            return
        try:
            path = resolve(p)
        except (TypeError, ValueError):
            stop("path", event)
            return
        if path is None or path in _DEVICES:
            return
        if _under(path, workdir):
            return
        if writing:
            stop("write", event, path)
        elif any(_under(path, r) for r in roots) or any(_under(path, r) for r in _SYSTEM_INFO):
            return
        elif path.startswith(own_proc + "/") and path[len(own_proc) + 1 :] in _OWN_PROC:
            return
        else:
            stop("read", event, path)

    def dlopen_allowed(name: object) -> bool:
        if not isinstance(name, str) or not os.path.isabs(name):
            return False  # dlopen(None) is the process itself, a bare name is a system library
        path = realpath(name)
        return any(_under(path, r) for r in roots[:-1])

    def hook(event: str, args: tuple) -> None:
        me = thread_id()
        if me in busy:
            return
        if event == "open":
            busy.add(me)
            try:
                mode, flags = args[1], args[2]
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                    isinstance(flags, int) and flags & _WRITE_FLAGS
                )
                check_path(event, args[0], writing)
            finally:
                busy.discard(me)
            return
        if event in _PROCESS:
            stop("process", event)
        elif event in _SIGNAL:
            stop("signal", event)
        elif event in _LIMITS:
            stop("limits", event)
        elif event in _LINK:
            stop("link", event)
        elif event in _NETWORK_NAMES:
            stop("network", event)
        elif event == "ctypes.dlopen" and dlopen_allowed(args[0] if args else None):
            return  # a library of the installation loading its own native parts (torch does)
        elif event in _READS or event in _WRITES:
            busy.add(me)
            try:
                for i in _READ_TOO.get(event, ()):
                    if i < len(args):
                        check_path(event, args[i], False)
                for i in _READS.get(event, ()):
                    if i < len(args):
                        check_path(event, args[i], False)
                for i in _WRITES.get(event, ()):
                    if i < len(args):
                        check_path(event, args[i], True)
            finally:
                busy.discard(me)
        else:
            for prefix, category in _PREFIXES:
                if event.startswith(prefix):
                    stop(category, event)

    _neutralise_unaudited(stop)
    sys.addaudithook(hook)


def _neutralise_unaudited(stop) -> None:  # type: ignore[no-untyped-def]
    """Two dangerous calls raise no audit event in 3.11: replace them in their modules (imported
    first, so a later import finds the replacement)."""
    import signal

    import _posixsubprocess  # imported by the harness already, while it could still read it

    def blocked(category: str, name: str):  # type: ignore[no-untyped-def]
        def _blocked(*_a: object, **_k: object) -> None:
            stop(category, name)

        return _blocked

    for module, attr, category in ((_posixsubprocess, "fork_exec", "process"), (signal, "pidfd_send_signal", "signal")):
        if hasattr(module, attr):
            setattr(module, attr, blocked(category, f"{module.__name__}.{attr}"))
