"""A cache of validated rubrics in the user cache directory: YAML parsing and validation of the
whole bank cost a quarter of a second, reading this file a few milliseconds. An entry is used only
when its file's content (a digest of the bytes) and the grader code are unchanged."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

CACHE_ENV = "GRADER_CACHE_DIR"


def _dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("grader"))


def _code_stamp() -> str:
    """Changes whenever the rubric model may have changed."""
    import grader
    from grader.rubric import models

    st = os.stat(models.__file__)
    return f"{grader.__version__}:{st.st_mtime_ns}:{st.st_size}"


def _path() -> Path:
    return _dir() / "rubrics.pickle"


def file_key(path: Path) -> tuple[str, str | None]:
    """(where, what): reading a small file costs far less than parsing and validating it."""
    import hashlib

    try:
        data = path.read_bytes()
    except OSError:
        return str(path), None
    return str(path.resolve()), hashlib.blake2b(data, digest_size=16).hexdigest()


def read() -> dict:
    try:
        with open(_path(), "rb") as fh:
            stamp, entries = pickle.load(fh)
    except Exception:  # noqa: BLE001 - missing, stale or corrupt: rebuild
        return {}
    return entries if stamp == _code_stamp() and isinstance(entries, dict) else {}


def write(entries: dict) -> None:
    path = _path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump((_code_stamp(), entries), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old or the new file
    except OSError:
        pass  # a read-only cache directory only costs speed
