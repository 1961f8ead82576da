"""OS-level isolation, applied by the sandbox harness to itself before any candidate code is in
the process (stdlib only). Layers, each tried and recorded, none fatal if the system refuses it:

* a new network namespace: only a loopback device that is down, so no connection can be made;
* a new PID namespace for the candidate process: it is PID 1 there, cannot see or signal the
  grader or anything else outside, and whatever it forks dies with it;
* a new mount namespace in which every top-level directory except the system ones (/usr, /etc,
  /lib, /dev, /proc, /sys ...) is covered by an empty tmpfs, with only the Python installation
  and the work directory mounted back: the grading database, the user's home and project, other
  temporary files simply do not exist in there. The work directory itself becomes a small tmpfs;
* resource limits (processes, open files, file size, CPU, core dumps);
* an unprivileged user: as root, a fresh uid per run (RLIMIT_NPROC does not bind root, and a uid of
  its own means the candidate can signal or read nothing of anyone else's, not even another run);
  as a normal user, a user namespace whose capabilities are dropped after the mounts are made.
"""

from __future__ import annotations

import ctypes
import os
import resource
import stat

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 32, 4096, 16384, 1 << 18
MS_RDONLY = 1
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38

# Top-level directories left visible: what the interpreter and the C library need, nothing personal.
SYSTEM_TOP = frozenset({"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "sys"})

_libc = ctypes.CDLL(None, use_errno=True)
# Linux system calls; elsewhere (macOS) they are missing and those layers are simply not applied.
_mount = getattr(_libc, "mount", None)
_unshare = getattr(_libc, "unshare", None)
_prctl = getattr(_libc, "prctl", None)
if _mount is not None:
    _mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
if _unshare is not None:
    _unshare.argtypes = [ctypes.c_int]
if _prctl is not None:
    _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _call(fn: object, *args: object) -> int:
    return -1 if fn is None else fn(*args)  # type: ignore[operator]


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _mount is None:
        raise OSError(0, "mount is not available here")
    _check(_mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def prctl(option: int, arg: int) -> None:
    if _prctl is None:
        raise OSError(0, "prctl is not available here")
    _check(_prctl(option, arg, 0, 0, 0), "prctl")


def set_parent_death_signal(signum: int) -> None:
    if _prctl is not None:
        prctl(PR_SET_PDEATHSIG, signum)


# ---- namespaces --------------------------------------------------------------------------------


def _unshare_first(*flag_sets: int) -> int:
    """Try each combination in turn; return the one that worked, or 0."""
    for flags in flag_sets:
        if _call(_unshare, flags) == 0:
            return flags
    return 0


def enter_namespaces(facts: dict[str, str]) -> bool:
    """Returns whether a private mount namespace was entered (masks can be applied). A new PID
    namespace takes effect for the candidate process forked next: it becomes its PID 1, sees and
    can signal nothing outside, and everything it forks dies with it."""
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        got = _unshare_first(
            CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID, CLONE_NEWNS | CLONE_NEWNET, CLONE_NEWNET
        )
    else:  # a normal user: a user namespace owns the others
        base = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET
        got = _unshare_first(base | CLONE_NEWPID, base)
        if got:
            try:
                with open("/proc/self/setgroups", "w") as f:
                    f.write("deny")
                with open("/proc/self/uid_map", "w") as f:
                    f.write(f"{uid} {uid} 1")
                with open("/proc/self/gid_map", "w") as f:
                    f.write(f"{gid} {gid} 1")
            except OSError:
                return False
            facts["user"] = "user namespace"
    if got & CLONE_NEWNET:
        facts["network"] = "namespace"
    if got & CLONE_NEWPID:
        facts["processes"] = "pid namespace"
    return bool(got & CLONE_NEWNS)


# ---- the masked filesystem view ------------------------------------------------------------------


def _strictly_under(path: str, root: str) -> bool:
    return path.startswith(root.rstrip("/") + "/")


def _mask(directory: str, keep: list[str]) -> None:
    """Cover `directory` with an empty tmpfs, then mount back the paths in `keep` under it."""
    if directory in keep:
        return
    children = sorted({k[len(directory) :].lstrip("/").split("/")[0] for k in keep if _strictly_under(k, directory)})
    handles = []
    for child in children:
        try:  # a handle on the real entry, taken before the tmpfs hides it
            fd = os.open(os.path.join(directory, child), os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        handles.append((child, fd, stat.S_ISDIR(os.fstat(fd).st_mode)))
    mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k,nr_inodes=512")
    for child, fd, is_dir in handles:
        target = os.path.join(directory, child)
        if is_dir:
            os.mkdir(target)
        else:
            open(target, "w").close()
        mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        os.close(fd)
        _mask(target, [k for k in keep if k == target or _strictly_under(k, target)])
    try:  # nothing may be added next to the kept paths
        mount(None, directory, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    except OSError:
        pass


def mask_filesystem(keep: list[str], hide: list[str], workdir: str, workdir_mb: int, owner: tuple[int, int], facts: dict[str, str]) -> None:
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here leaks back to the host
    keep = sorted({os.path.realpath(k) for k in keep} | {os.path.realpath(workdir)})
    for name in sorted(os.listdir("/")):
        top = "/" + name
        if name in SYSTEM_TOP or os.path.islink(top) or not os.path.isdir(top):
            continue
        _mask(top, [k for k in keep if k == top or _strictly_under(k, top)])
    for path in hide:  # the store and config, should they sit in a system directory
        if any(k == path or _strictly_under(k, path) for k in keep):
            continue  # never hide what must stay (a data dir that holds the work dir, say)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k")
        else:
            mount("/dev/null", path, None, MS_BIND)
    real_workdir = os.path.realpath(workdir)
    if os.path.isdir("/dev/shm") and not _strictly_under(real_workdir, "/dev/shm"):  # world-writable, in memory: no room
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k")
    uid, gid = owner
    mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700,uid={uid},gid={gid},size={workdir_mb}m,nr_inodes=4096")
    os.chdir(workdir)  # the cwd still pointed at the directory under the new tmpfs
    facts["filesystem"] = "masked"
    if os.geteuid() == 0 and facts.get("user") != "user namespace":
        try:  # other users' processes become invisible
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
        except OSError:
            pass


def reachable_by_others(paths: list[str]) -> bool:
    """Whether an unrelated uid can get to every path (each ancestor searchable by 'other')."""
    for p in paths:
        parts = os.path.realpath(p).split("/")
        for i in range(2, len(parts) + 1):
            d = "/".join(parts[:i]) or "/"
            try:
                if not os.stat(d).st_mode & stat.S_IXOTH:
                    return False
            except OSError:
                return False
    return True


# ---- limits and privileges ---------------------------------------------------------------------


def _count_processes(uid: int) -> int | None:
    if not os.path.isdir("/proc"):
        return None
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                n += os.stat(f"/proc/{entry}").st_uid == uid
            except OSError:
                pass
    return n


def set_limits(nproc: int, nofile: int, fsize: int, cpu_s: int, fresh_count: bool) -> None:
    """`fresh_count`: the process count starts from zero (a fresh uid, or a new user namespace,
    where the kernel counts per namespace); otherwise the user's current processes are added."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
    base = 0 if fresh_count else _count_processes(os.getuid())
    if base is not None:  # without /proc the user's count is unknown: leave it to the guard
        resource.setrlimit(resource.RLIMIT_NPROC, (base + nproc, base + nproc))


def vm_size() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def limit_address_space(extra_bytes: int) -> None:
    """Room for `extra_bytes` more on top of what is mapped now (the interpreter, numpy)."""
    current = vm_size()
    if not current:  # no /proc: what is mapped now is unknown, a guess would break start-up
        return
    total = current + extra_bytes
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        total = min(total, hard)
    resource.setrlimit(resource.RLIMIT_AS, (total, total))


def drop_privileges(uid: int | None, gid: int | None, facts: dict[str, str]) -> None:
    """As root: become `uid`/`gid` for good (the kernel clears every capability). In a user
    namespace nothing happens here: the candidate process still needs its capabilities to mount
    its /proc, so both processes call drop_capabilities after the fork."""
    if uid is not None and os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)  # type: ignore[arg-type]
            os.setresuid(uid, uid, uid)
            facts["user"] = f"uid {uid}"
        except OSError as exc:
            facts["user"] = f"root (could not drop: {exc.strerror})"
    elif facts.get("user") != "user namespace":
        facts.setdefault("user", "same user")
    no_new_privileges()


def no_new_privileges() -> None:
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError:
        pass


def drop_capabilities(facts: dict[str, str]) -> None:
    """In a user namespace: give back the full capabilities it granted (no mount, no unmount)."""
    for cap in range(64):
        _call(_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    capset = getattr(_libc, "capset", None)
    if capset is not None and capset(header, data) == 0:
        facts["user"] = "user namespace, no capabilities"
    no_new_privileges()


def private_proc(facts: dict[str, str]) -> None:
    """In the candidate process, PID 1 of its own PID namespace inside a user namespace: a /proc
    of its own namespace (no other process visible, no /proc/PID/root leading outside), or, where
    the kernel refuses that, no /proc at all."""
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        facts["proc"] = "own pid namespace"
    except OSError:
        try:
            mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k")
            facts["proc"] = "hidden"
        except OSError:
            facts["proc"] = "shared"
