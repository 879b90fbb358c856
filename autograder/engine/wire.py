"""The only format that crosses between the grader and a student's worker.

A frame is a JSON header followed by binary blobs, each length-prefixed:

    u32 header length | header JSON | for each blob: u64 length | bytes

Arrays travel as raw bytes with their dtype (numbers, booleans, text, dates;
never objects) and shape in the header, checked against the blob's length,
so nothing from the other side is ever unpickled or evaluated. Values are
tagged dicts:

    {"t": "none"} {"t": "bool", "v": true} {"t": "int", "v": "12"}
    {"t": "float", "v": 1.5} {"t": "str", "v": "..."}
    {"t": "tuple"|"list", "items": [...]} {"t": "array", "blob": 0, "dtype": "<f8", "shape": [2, 3], "cls": "numpy.ndarray"}
    {"t": "ref", "id": 3, "cls": "Conv2d"}   an object that stays in the worker
    {"t": "bad", "cls": "...", "why": "..."}  a value that cannot be sent as data

This module runs on both sides and imports only the standard library and
NumPy (the worker's sandbox has nothing else).
"""

import json
import math
import re
import struct

import numpy as np

try:  # in the grader, a module of the engine package
    from .text import inert
except ImportError:  # in the worker, which imports wire.py and text.py from its own folder
    from text import inert  # type: ignore[no-redef]

MAX_HEADER = 1 << 20
MAX_STR = 4000


class WireError(Exception):
    """The other side sent something that is not a well-formed frame."""


def read_exact(read, size):
    chunks, left = [], size
    while left:
        chunk = read(left)
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def pack(header, blobs=()):
    data = json.dumps(header, allow_nan=True).encode("utf-8")
    parts = [struct.pack("<I", len(data)), data]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    return b"".join(parts)


def unpack(read, max_blob_bytes, max_header=MAX_HEADER):
    """Read one frame with `read(n)`; refuse anything larger than the limits."""
    (size,) = struct.unpack("<I", read_exact(read, 4))
    if size > max_header:
        raise WireError(f"header of {size} bytes is larger than {max_header}")
    try:
        header = json.loads(read_exact(read, size).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise WireError(f"header is not JSON: {str(exc)[:200]}") from None
    if not isinstance(header, dict):
        raise WireError("header is not an object")
    blobs = []
    count = header.get("blobs", 0)
    if not isinstance(count, int) or not 0 <= count <= 64:
        raise WireError(f"bad blob count {count!r}")
    total = 0
    for _ in range(count):
        (length,) = struct.unpack("<Q", read_exact(read, 8))
        total += length
        if total > max_blob_bytes:
            raise WireError(f"reply carries more than {max_blob_bytes} bytes of arrays")
        blobs.append(read_exact(read, length))
    return header, blobs


# Plain data only: booleans, numbers, text, dates. No objects, no structured records.
_DTYPE = re.compile(r"[<>|=]?[biufcSUmM][0-9]{1,5}(\[[0-9]{0,3}[a-zA-Z]{1,2}\])?")
MAX_DIMS = 32


def array_to_blob(array):
    """An array as (its raw bytes in C order, its dtype string, its shape)."""
    return array.tobytes(order="C"), array.dtype.str, list(array.shape)


def blob_to_array(blob, dtype, shape):
    """The array of `dtype` and `shape` whose raw bytes are `blob`, allocating no more than the blob.

    Raw bytes plus a declared dtype and shape, checked against each other:
    nothing of the other side's is parsed but a short dtype string and a
    list of ints (a .npy header would be a Python literal to evaluate, on
    every array).
    """
    try:
        if not isinstance(dtype, str) or not _DTYPE.fullmatch(dtype):
            raise ValueError(f"dtype {str(dtype)[:40]!r} is not plain data")
        if not isinstance(shape, list) or len(shape) > MAX_DIMS or \
                not all(type(n) is int and 0 <= n < 1 << 62 for n in shape):
            raise ValueError("malformed shape")
        kind = np.dtype(dtype)
        if kind.itemsize == 0:
            raise ValueError(f"dtype {dtype} is not plain data (it has no size)")
        declared = math.prod(shape) * kind.itemsize
        if declared != len(blob):
            raise ValueError(f"it declares {declared} bytes of {kind} but carries {len(blob)}")
        # A copy the receiver may write to, as an array it made itself.
        return np.frombuffer(bytearray(blob), dtype=kind).reshape(shape)
    except Exception as exc:  # noqa: BLE001 - any malformed blob is the sender's fault
        raise WireError(f"array blob is not a plain array: {str(exc)[:200]}") from None


def qualname(obj):
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    return f"{module}.{cls.__qualname__}" if module not in ("builtins", "__main__") else cls.__qualname__


class Encoder:
    """Turns values into tagged dicts; blobs accumulate in .blobs.

    `remember(obj) -> id` keeps objects that are not plain data on this
    side; only the worker passes one (the grader never sends objects).
    """

    def __init__(self, remember=None, depth_limit=8, items_limit=10000):
        self.blobs = []
        self.remember = remember
        self.depth_limit = depth_limit
        self.items_limit = items_limit

    def encode(self, value, depth=0):
        if depth > self.depth_limit:
            return {"t": "bad", "cls": qualname(value), "why": "nested too deeply"}
        if value is None:
            return {"t": "none"}
        if value is True or value is False:
            return {"t": "bool", "v": value}
        kind = type(value)
        if kind is int:
            return {"t": "int", "v": str(value)}
        if kind is float:
            return {"t": "float", "v": value if math.isfinite(value) else repr(value)}
        if kind is str:
            return {"t": "str", "v": value[:MAX_STR]}
        if isinstance(value, (tuple, list)):
            # Subclasses (a namedtuple of gradients, say) travel as the plain container.
            plain = tuple if isinstance(value, tuple) else list
            items = plain.__len__(value)
            if items > self.items_limit:
                return {"t": "bad", "cls": qualname(value), "why": f"has {items} items"}
            return {"t": plain.__name__, "items": [self.encode(v, depth + 1) for v in plain.__iter__(value)]}
        if isinstance(value, np.ndarray) or isinstance(value, np.generic):
            array = np.asarray(value)
            if type(array) is not np.ndarray:
                array = np.asarray(array).view(np.ndarray)
            if array.dtype.hasobject:
                return {"t": "bad", "cls": qualname(value), "why": "an array of Python objects (dtype=object)"}
            blob, dtype, shape = array_to_blob(array)
            self.blobs.append(blob)
            return {
                "t": "array",
                "blob": len(self.blobs) - 1,
                "dtype": dtype,
                "shape": shape,
                "cls": qualname(value),
                "scalar": isinstance(value, np.generic),
            }
        if isinstance(value, BaseException):
            return {"t": "bad", "cls": qualname(value), "why": "an exception object"}
        if self.remember is not None:
            return {"t": "ref", "id": self.remember(value), "cls": type(value).__name__}
        raise TypeError(f"cannot send {qualname(value)}")


MAX_ITEMS = 100_000


def clean(text: str) -> str:
    """Student text as it enters the grader: control characters and lone surrogates shown as
    escapes (text.inert), so no writer raises or hands a terminal an escape sequence."""
    return inert(text)


class _Budget:
    """What one reply may cost to decode: each blob becomes an array once, and items are counted.

    Without it a reply naming one large blob a thousand times would be
    decoded into a thousand arrays on the grader's side.
    """

    def __init__(self):
        self.used_blobs: set[int] = set()
        self.items = 0


def decode(tagged, blobs, make_ref=None, depth=0, budget=None):
    """Rebuild a value; refs become make_ref(id, cls). Raises WireError on nonsense."""
    budget = budget or _Budget()
    budget.items += 1
    if budget.items > MAX_ITEMS:
        raise WireError(f"more than {MAX_ITEMS} values in one message")
    if depth > 16 or not isinstance(tagged, dict):
        raise WireError("malformed value")
    tag = tagged.get("t")
    if tag == "none":
        return None
    if tag == "bool":
        return bool(tagged.get("v"))
    if tag == "int":
        text = tagged.get("v")
        if not isinstance(text, str) or len(text) > 400:
            raise WireError("malformed int")
        return int(text)
    if tag == "float":
        v = tagged.get("v")
        if isinstance(v, str) and v in ("nan", "inf", "-inf"):
            return float(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        raise WireError("malformed float")
    if tag == "str":
        v = tagged.get("v")
        if not isinstance(v, str) or len(v) > MAX_STR:
            raise WireError("malformed str")
        return clean(v)
    if tag in ("tuple", "list"):
        items = tagged.get("items")
        if not isinstance(items, list):
            raise WireError("malformed sequence")
        values = [decode(v, blobs, make_ref, depth + 1, budget) for v in items]
        return tuple(values) if tag == "tuple" else values
    if tag == "array":
        index = tagged.get("blob")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(blobs):
            raise WireError("array refers to a missing blob")
        if index in budget.used_blobs:
            raise WireError("one array blob is referred to twice")
        budget.used_blobs.add(index)
        array = blob_to_array(blobs[index], tagged.get("dtype"), tagged.get("shape"))
        if make_ref is None:
            return array
        return make_ref.array(array, clean(str(tagged.get("cls", ""))[:200]), bool(tagged.get("scalar")))
    if tag == "ref":
        if make_ref is None or not isinstance(tagged.get("id"), int):
            raise WireError("unexpected object reference")
        return make_ref(tagged["id"], clean(str(tagged.get("cls", "object"))[:200]))
    if tag == "bad":
        if make_ref is None:
            raise WireError("unexpected unsendable value")
        return make_ref.bad(clean(str(tagged.get("cls", "?"))[:200]), clean(str(tagged.get("why", ""))[:500]))
    raise WireError(f"unknown value tag {tag!r}")
