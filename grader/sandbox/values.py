"""Values that cross from the candidate's process to the checking process, and how they compare.

The candidate's results travel as tagged JSON, never as pickle: decoding must not be able to run
code. Only plain types are accepted (checked by exact type, so a subclass with a rigged `__eq__`
cannot pass itself off as an int or a str). Imported by the sandbox harness: stdlib and numpy only.
"""

from __future__ import annotations

import base64
import math
import sys

import numpy as np

MAX_ITEMS = 2_000_000  # Python containers and their items, summed over one value
MAX_ARRAY_BYTES = 64 * 1024 * 1024


class NotPlain(ValueError):
    """The candidate returned something the checker cannot take (with a message for them)."""


# ---- encoding (runs in the candidate's process) ---------------------------------------------


def encode(value: object) -> object:
    budget = [MAX_ITEMS]
    return _enc(value, budget, 0)


def _torch_to_numpy(value: object) -> object | None:
    # torch answers (ResNet block, RoIAlign) return tensors; convert exact torch types only.
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    t = type(value)
    if t is torch.Tensor or t is torch.nn.Parameter:
        return value.detach().cpu().numpy()  # type: ignore[attr-defined]
    if t is torch.Size:
        return tuple(int(v) for v in value)  # type: ignore[attr-defined]
    return None


def _enc(v: object, budget: list[int], depth: int) -> object:
    budget[0] -= 1
    if budget[0] < 0:
        raise NotPlain("a value too large to check")
    if depth > 50:
        raise NotPlain("a value nested too deeply to check")
    t = type(v)
    if v is None or t is bool or t is str:
        return v
    if t is int:
        if abs(v) < 2**63:  # type: ignore[arg-type]
            return v
        try:
            return {"$": "int", "v": str(v)}
        except ValueError:
            raise NotPlain("an integer too large to check") from None
    if t is float:
        return v if math.isfinite(v) else {"$": "float", "v": repr(v)}  # type: ignore[arg-type]
    if t is complex:
        return {"$": "complex", "v": [v.real, v.imag]}  # type: ignore[attr-defined]
    if t is list:
        return [_enc(x, budget, depth + 1) for x in v]  # type: ignore[attr-defined]
    if t is tuple:
        return {"$": "tuple", "v": [_enc(x, budget, depth + 1) for x in v]}  # type: ignore[attr-defined]
    if t is dict:
        return {"$": "dict", "v": [[_enc(k, budget, depth + 1), _enc(x, budget, depth + 1)] for k, x in v.items()]}  # type: ignore[attr-defined]
    if t is set or t is frozenset:
        return {"$": "set", "v": [_enc(x, budget, depth + 1) for x in v]}  # type: ignore[attr-defined]
    if t is bytes:
        return {"$": "bytes", "v": base64.b64encode(v).decode("ascii")}  # type: ignore[arg-type]
    if t is np.ndarray:
        return _enc_array(v, budget, depth)  # type: ignore[arg-type]
    if isinstance(v, np.generic) and t.__module__ == "numpy":
        return {"$": "npscalar", "v": _enc_array(np.asarray(v), budget, depth)}
    converted = _torch_to_numpy(v)
    if converted is not None:
        return _enc(converted, budget, depth)
    raise NotPlain(f"an object of type {t.__name__}")


def _enc_array(a: np.ndarray, budget: list[int], depth: int) -> object:
    if a.dtype.kind == "O":
        return {"$": "objarray", "shape": list(a.shape), "v": [_enc(x, budget, depth + 1) for x in a.ravel().tolist()]}
    if a.dtype.kind not in "biufcUS" or a.dtype.fields is not None:
        raise NotPlain(f"a numpy array of dtype {a.dtype}")
    if a.nbytes > MAX_ARRAY_BYTES:
        raise NotPlain(f"an array of {a.nbytes // 2**20} MiB, too large to check")
    data = np.ascontiguousarray(a).tobytes()
    return {"$": "ndarray", "dtype": a.dtype.str, "shape": list(a.shape), "v": base64.b64encode(data).decode("ascii")}


# ---- decoding (runs in the checking process, on untrusted data) ------------------------------


MAX_DEPTH = 64  # tags add a level to each container: the encoder stops at 50 containers


def decode(data: object, depth: int = 0) -> object:
    """Untrusted data from the candidate's process: ValueError for anything the encoder would not
    have written (nesting too deep, an unknown tag, an integer string too long, ...)."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    d = depth + 1
    if isinstance(data, list):
        return [decode(x, d) for x in data]
    if not isinstance(data, dict):
        raise ValueError("malformed value")
    tag, v = data.get("$"), data.get("v")
    if tag == "int":
        if not isinstance(v, str) or len(v) > 4300:
            raise ValueError("malformed integer")
        return int(v)
    if tag == "float":
        return float(v)  # type: ignore[arg-type]
    if tag == "complex":
        return complex(float(v[0]), float(v[1]))  # type: ignore[index]
    if tag == "tuple":
        return tuple(decode(x, d) for x in v)  # type: ignore[union-attr]
    if tag == "dict":
        return {_hashable(decode(k, d)): decode(x, d) for k, x in v}  # type: ignore[union-attr]
    if tag == "set":
        return {_hashable(decode(x, d)) for x in v}  # type: ignore[union-attr]
    if tag == "bytes":
        return base64.b64decode(v, validate=True)  # type: ignore[arg-type]
    if tag == "ndarray":
        dtype = np.dtype(str(data["dtype"]))
        if dtype.kind not in "biufcUS" or dtype.fields is not None:
            raise ValueError("malformed array")
        shape = tuple(int(s) for s in data["shape"])  # type: ignore[union-attr]
        return np.frombuffer(base64.b64decode(v, validate=True), dtype=dtype).reshape(shape).copy()  # type: ignore[arg-type]
    if tag == "objarray":
        shape = tuple(int(s) for s in data["shape"])  # type: ignore[union-attr]
        out = np.empty(len(v), dtype=object)  # type: ignore[arg-type]
        out[:] = [decode(x, d) for x in v]  # type: ignore[union-attr]
        return out.reshape(shape)
    if tag == "npscalar":
        arr = decode(v, d)
        if not isinstance(arr, np.ndarray) or arr.shape != ():
            raise ValueError("malformed scalar")
        return arr[()]
    raise ValueError("malformed value")


def _hashable(x: object) -> object:
    if isinstance(x, list):
        return tuple(_hashable(i) for i in x)
    if isinstance(x, np.ndarray):
        raise ValueError("unhashable key")
    return x


# ---- comparison ------------------------------------------------------------------------------


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, complex, np.number)) and not isinstance(x, (bool, np.bool_))


def same(got: object, expected: object, tol: float) -> bool:
    """Numbers and arrays with tolerance (recursively inside tuples, lists and dicts; a list and a
    tuple are interchangeable); everything else exactly. bool is not a number here."""
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(got) == len(expected) and all(same(g, e, tol) for g, e in zip(got, expected))
    if isinstance(expected, dict) or isinstance(got, dict):
        if not (isinstance(expected, dict) and isinstance(got, dict)) or set(got) != set(expected):
            return False
        return all(same(got[k], expected[k], tol) for k in expected)
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray) or _is_number(expected) or _is_number(got):
        return _same_numeric(got, expected, tol)
    if isinstance(expected, (bool, np.bool_)) or isinstance(got, (bool, np.bool_)):
        return isinstance(got, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)) and bool(got) == bool(expected)
    try:
        return type(got) is type(expected) and bool(got == expected)
    except Exception:
        return False


def _same_numeric(got: object, expected: object, tol: float) -> bool:
    try:
        a = np.asarray(got)
        b = np.asarray(expected)
    except Exception:
        return False
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "US" or b.dtype.kind in "US":
        return a.dtype.kind == b.dtype.kind and bool(np.array_equal(a, b))
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        return a.dtype.kind == b.dtype.kind and bool(np.array_equal(a, b))
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        if a.ndim == 0 or b.ndim == 0:  # None, a str or another non-number against a number
            return False
        return all(same(x, y, tol) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
    if a.dtype.kind not in "iufc" or b.dtype.kind not in "iufc":
        return False
    try:
        return bool(np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True))
    except Exception:
        return False


# ---- showing a value to the candidate --------------------------------------------------------


def show(value: object, limit: int = 160) -> str:
    text = _show(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def difference(got: object, expected: object) -> str | None:
    """Where two arrays differ ("largest difference 0.5 at index (1, 2)"), or their shapes; None
    for anything else (scalars and non-numbers are shown whole anyway)."""
    try:
        a, b = np.asarray(got), np.asarray(expected)
        if a.dtype.kind not in "biufc" or b.dtype.kind not in "biufc" or (a.ndim == 0 and b.ndim == 0):
            return None
        if a.shape != b.shape:
            return f"shape {a.shape}, expected {b.shape}"
        if a.size == 0:
            return None
        both_nan = np.isnan(a) & np.isnan(b) if a.dtype.kind in "fc" and b.dtype.kind in "fc" else False
        d = np.abs(a.astype(np.complex128) - b.astype(np.complex128))
        d = np.where(both_nan, 0.0, np.where(np.isnan(d), np.inf, d))
        idx = np.unravel_index(int(np.argmax(d)), d.shape)
        where = tuple(int(i) for i in idx)
        return f"largest difference {float(d[idx]):.3g} at index {where if len(where) != 1 else where[0]}"
    except Exception:  # noqa: BLE001 - a hint, never a failure
        return None


def _show(v: object) -> str:
    if isinstance(v, np.ndarray):
        body = " ".join(np.array2string(v, threshold=8, edgeitems=2, precision=6, separator=", ").split())
        return f"array(shape={v.shape}, {body})" if v.ndim > 1 or v.size > 8 else f"array({body})"
    if isinstance(v, np.generic):
        return repr(v.item())
    if isinstance(v, tuple):
        inner = ", ".join(_show(x) for x in v[:20]) + (", …" if len(v) > 20 else "")
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v[:20]) + (", …" if len(v) > 20 else "") + "]"
    if isinstance(v, dict):
        items = list(v.items())
        return "{" + ", ".join(f"{_show(k)}: {_show(x)}" for k, x in items[:20]) + (", …" if len(items) > 20 else "") + "}"
    if isinstance(v, float):
        return repr(round(v, 10)) if math.isfinite(v) else repr(v)
    return repr(v)
