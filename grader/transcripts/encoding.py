"""Bytes on disk -> one clean str: detect the encoding, refuse binary files, normalise line ends.

Transcripts come from Windows notepads (GBK, CRLF, BOMs), subtitle tools (UTF-16) and speech
tools (UTF-8). UTF-8 is tried strictly first because it almost never decodes other text by
accident; charset-normalizer is only consulted when that fails.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.text.normalize import has_lone_surrogates
from grader.transcripts.errors import TranscriptError

MAX_BYTES = 32 * 1024 * 1024  # far above any interview transcript; stops a stray video being slurped

# Order matters: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
]

# Signatures of files a coach might pick by mistake, so the error can say what the file is.
_MAGIC = [
    (b"%PDF", "a PDF document; export the text first"),
    (b"PK\x03\x04", "a ZIP archive (a .docx or .xlsx?); save it as plain text first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"ID3", "an MP3 audio file; transcribe it first"),
    (b"RIFF", "a RIFF (WAV/AVI) media file; transcribe it first"),
    (b"fLaC", "a FLAC audio file; transcribe it first"),
    (b"OggS", "an Ogg media file; transcribe it first"),
    (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video; transcribe it first"),
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.doc); save it as plain text first"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
]

_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # the codec that decoded it, e.g. "utf-8", "utf-8-sig", "utf-16", "gb18030"


def read_text(path: str | Path) -> DecodedText:
    path = Path(path)
    limit = f"{MAX_BYTES // 2**20} MiB" if MAX_BYTES >= 2**20 else f"{MAX_BYTES:,} bytes"
    too_large = f"file is too large (over {limit}); split it"
    try:
        if path.stat().st_size > MAX_BYTES:
            raise TranscriptError(path, too_large)
        with path.open("rb") as fh:  # bounded: a device or FIFO has no size to check first
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise TranscriptError(path, too_large)
    except IsADirectoryError:
        raise TranscriptError(path, "is a directory, not a transcript file") from None
    except FileNotFoundError:
        raise TranscriptError(path, "file not found") from None
    except OSError as exc:
        raise TranscriptError(path, f"cannot read file ({exc.strerror or exc})") from None
    return decode_bytes(data, path)


def read_bytes_limited(stream, limit: int, source: str | Path) -> bytes:
    """At most `limit` bytes from a binary stream; more is an error, so an endless source
    (/dev/zero, a pipe that never closes its output) cannot be slurped."""
    try:
        data = stream.read(limit + 1)
    except OSError as exc:
        raise TranscriptError(source, f"cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise TranscriptError(source, f"is too long: more than {limit:,} bytes")
    return data


def decode_user_text(text: str | bytes, source: str) -> str:
    """Text a user typed or piped (an --answer, stdin, a line in practice), decoded exactly like
    a transcript file. Bytes that were not valid UTF-8 reach Python as lone surrogates
    (surrogateescape); they are turned back into the original bytes and decoded properly, so no
    surrogate ever reaches the store."""
    if isinstance(text, str):
        if not _SURROGATE.search(text):
            return text.replace("\r\n", "\n").replace("\r", "\n")
        try:
            text = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise TranscriptError(source, "contains invalid characters (lone UTF-16 surrogates)") from None
    if not text.strip():
        return ""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # input cut inside a character (Ctrl-D)
            text = text[: exc.start]
    try:
        return decode_bytes(text, source).text
    except TranscriptError as exc:
        if exc.problem == "file is empty":  # e.g. nothing after a byte-order mark
            return ""
        raise


def decode_bytes(data: bytes, path: str | Path = "<bytes>") -> DecodedText:
    if not data.strip():
        raise TranscriptError(path, "file is empty")
    text, encoding = _decode(data, path)
    text = text.lstrip("\ufeff")
    _reject_control_characters(text, path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line ends
    if not text.strip():
        raise TranscriptError(path, "file is empty")
    return DecodedText(text=text, encoding=encoding)


def _decode(data: bytes, path) -> tuple[str, str]:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), name
            except UnicodeDecodeError:
                raise TranscriptError(path, f"starts with a {name} byte-order mark but is not valid {name}") from None

    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise TranscriptError(path, f"is not a text transcript: it looks like {what}")
    if data[4:8] == b"ftyp":
        raise TranscriptError(path, "is not a text transcript: it looks like an MP4/M4A file; transcribe it first")

    if b"\x00" in data:
        # UTF-16 without a BOM is the only text that is full of NUL bytes.
        guess = _guess(data)
        if guess and guess.startswith(("utf_16", "utf_32")):
            try:
                return data.decode(guess), guess.replace("_", "-")
            except UnicodeDecodeError:
                pass
        raise TranscriptError(path, "is not a text transcript: it contains binary data (NUL bytes)")

    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    # Chinese first, whatever the detector says: it calls short GBK text Big5, Korean or Japanese.
    chinese = _decode_chinese(data)
    if chinese is not None:
        return chinese
    guess = _guess(data)
    if guess:
        try:
            return data.decode(guess), guess
        except (UnicodeDecodeError, LookupError):
            pass
    raise TranscriptError(path, "cannot tell the text encoding (tried UTF-8, GB18030, Big5, detection); save it as UTF-8")


def _guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes  # lazy: only non-UTF-8 files need it

    best = from_bytes(data).best()
    return best.encoding if best else None


def _decode_chinese(data: bytes) -> tuple[str, str] | None:
    """GB18030 or Big5, whichever reads as common Chinese characters; GB18030 wins ties.

    Both readings are scored by the share of their characters that lie in the common-character
    block of that standard; a Latin-1 file read as GB18030 scores near zero.
    """
    best: tuple[float, str, str] | None = None
    for codec, score in (("gb18030", _gb_common_share), ("big5", _big5_common_share)):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        s = score(text)
        if s >= 0.6 and (best is None or s > best[0]):
            best = (s, text, codec)
    return (best[1], best[2]) if best else None


def _non_ascii(text: str) -> list[str]:
    return [c for c in text if ord(c) > 0x7F and not unicodedata.category(c).startswith(("P", "Z"))]


def _common_share(text: str, codec: str, lead_bytes: range) -> float:
    """Share of the non-ASCII characters that `codec` encodes in its common-character block
    (identified by the lead byte of a two-byte code)."""
    chars = _non_ascii(text)
    if not chars:
        return 0.0
    common = 0
    for c in chars:
        try:
            b = c.encode(codec)
        except UnicodeEncodeError:
            continue
        common += len(b) == 2 and b[0] in lead_bytes
    return common / len(chars)


def _gb_common_share(text: str) -> float:
    return _common_share(text, "gb2312", range(0xB0, 0xD8))  # GB2312 level-1 (most frequent) hanzi


def _big5_common_share(text: str) -> float:
    return _common_share(text, "big5", range(0xA4, 0xC7))  # Big5 frequently-used characters


def _reject_control_characters(text: str, path) -> None:
    sample = text[:200_000]
    controls = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS)
    if controls > max(3, len(sample) // 200):
        raise TranscriptError(path, "is not a text transcript: it contains binary control characters")


def no_lone_surrogates(value: str | None) -> str | None:
    """A validator for text parsed from JSON, where "\\ud800" escapes a lone surrogate that no
    file decoding would produce: such text cannot be stored, shown or written to a report."""
    if value is not None and has_lone_surrogates(value):
        raise ValueError("contains invalid characters (a lone UTF-16 surrogate escaped in the JSON)")
    return value
