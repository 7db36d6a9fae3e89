"""JSON text to Python objects at the speed of the parser: the collector paused, orjson if present.

Parsing makes millions of young dicts and lists, and Python's cyclic garbage
collector walks all of them again and again while they are made: on a batch
of 50,000 tickets the collector took about two thirds of ``json.loads``' time.
JSON cannot hold a reference cycle, so nothing parsing makes needs it:
:func:`gc_paused` pauses it for the parse (and for what turns the result into
Arrow), and leaves it as the caller had it.

:func:`loads` uses orjson for bytes when it is installed (the ``fast``
extra) and the standard library otherwise, with the same result: whatever orjson refuses or
might read differently (integers beyond 64 bits, which it reads as floats;
``NaN``; UTF-16) goes to :func:`json.loads`, whose errors are the ones raised.

:class:`Reader` walks a large JSON text one value at a time, so that the
whole parsed tree never exists at once (see :func:`pandas_hubtickets.flatten`).
"""

from __future__ import annotations

import gc
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import numpy as np

orjson: Any
try:  # the optional accelerator (pip install pandas-hubtickets[fast])
    import orjson
except ImportError:  # pragma: no cover - the tests hide it to run without it
    orjson = None

__all__ = ["NotStreamable", "Reader", "gc_paused", "loads"]

#: Nineteen digits in a row may be an integer orjson reads as a float (beyond 64 bits: from
#: -9223372036854775809 down, or 20 digits and more). Runs of 2, 4, 8, 16 then 19 digits are
#: found by ANDing a digit mask with itself shifted by these steps (see _long_digits).
_RUN_STEPS: Final = (1, 2, 4, 8, 3)
_LONG_RUN: Final = 1 + sum(_RUN_STEPS)
#: Bytes of a text scanned for such runs at a time (the masks are this size).
_SCAN_BYTES: Final = 1 << 20
#: Bytes of an array's elements that orjson parses at a time (see Reader.elements).
_BATCH_BYTES: Final = 256 << 10
#: Places tried to end a batch before the rest is left to the standard library.
_CUTS_TRIED: Final = 4
_WHITESPACE: Final = " \t\n\r"
_WHITESPACE_BYTES: Final = _WHITESPACE.encode()
_COMMA: Final = ord(",")

_lock = threading.Lock()
_pausers = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector within the block; then leave it as it was.

    Nested and concurrent uses (worker threads parsing answers) share one
    pause: the collector is disabled by the first to enter and set back to
    the state found then by the last to leave, also when the block raises.

    Examples
    --------
    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()


def loads(text: str | bytes | bytearray) -> Any:
    """:func:`json.loads`, faster: the collector paused, and orjson when installed.

    Raises
    ------
    ValueError
        :func:`json.loads`' own error (``json.JSONDecodeError``, or a
        ``UnicodeDecodeError``) for a text that is not JSON.

    Examples
    --------
    >>> loads(b'{"objectId": 1, "big": 18446744073709551616}')
    {'objectId': 1, 'big': 18446744073709551616}
    """
    with gc_paused():
        if not isinstance(text, str):
            parsed = _orjson_loads(text)
            if parsed is not _UNDECIDED:
                return parsed
        return json.loads(text)


#: What :func:`_orjson_loads` returns when it leaves the text to :func:`json.loads`.
_UNDECIDED: Final = object()


def _orjson_loads(data: bytes | bytearray) -> Any:
    """orjson's parse of ``data`` where it is :func:`json.loads`', else :data:`_UNDECIDED`."""
    if orjson is None or _long_digits(data):
        return _UNDECIDED
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _UNDECIDED  # json.loads decides, and raises its own error


def _long_digits(data: bytes | bytearray) -> bool:
    """Whether ``data`` holds :data:`_LONG_RUN` (19) ASCII digits in a row.

    Vectorised over :data:`_SCAN_BYTES` at a time (windows overlap by a run's
    length less one): about 2.5 times faster than ``bytes.translate`` and a search.

    Examples
    --------
    >>> _long_digits(b'[1234567890123456789]'), _long_digits(b'[123456789012345678, 1]')
    (True, False)
    """
    codes = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, max(len(codes) - _LONG_RUN + 1, 0), _SCAN_BYTES):
        window = codes[start : start + _SCAN_BYTES + _LONG_RUN - 1]
        run = window - np.uint8(ord("0")) < 10  # a digit (the others wrap past 9)
        for step in _RUN_STEPS:  # run[i]: the digits from i on are step longer than before
            run = run[:-step] & run[step:]
        if run.any():
            return True
    return False


class NotStreamable(ValueError):
    """The text is not what :class:`Reader`'s caller expected (or not JSON): parse it whole."""


class Reader:
    """A JSON text read one value at a time, the parsed tree never whole.

    Values are parsed by the standard library's C scanner
    (``JSONDecoder.raw_decode``), so each is exactly what :func:`json.loads`
    makes of it. Bytes are decoded a block at a time. With orjson installed,
    the elements of an array in bytes are parsed by it, 256 KiB at a time
    (see :meth:`elements`): the same values, faster. Anything
    unexpected -- text that is not JSON, a shape the caller did not ask for --
    raises :class:`NotStreamable`: the caller then parses the text whole, which
    gives the standard error.

    Parameters
    ----------
    text : str, bytes or bytearray
        The JSON text (bytes in UTF-8, as HubSpot sends).
    block : int, default 4 MiB
        Bytes decoded at a time.

    Examples
    --------
    >>> reader = Reader(b' [{"a": 1}, [2], 3] ')
    >>> list(reader.elements())
    [{'a': 1}, [2], 3]
    >>> reader.end()
    """

    _decode = json.JSONDecoder().raw_decode

    def __init__(self, text: str | bytes | bytearray, *, block: int = 4 << 20) -> None:
        self._pos = 0
        self._block = block
        #: The bytes given (None for a str), and where the next block to decode starts.
        self._data: bytes | bytearray | None = None
        self._next = 0
        if isinstance(text, str):
            if text.startswith("\ufeff"):
                raise NotStreamable("a byte order mark")
            self._text = text
        else:
            if json.detect_encoding(text) != "utf-8":
                raise NotStreamable("not UTF-8")
            self._text = ""
            self._data = text

    def _more(self) -> bool:
        """Append the next block to the text not yet read; False at the end of the input."""
        data, start = self._data, self._next
        if data is None or start >= len(data):
            return False
        end = min(len(data), start + max(1, self._block))
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end += 1  # to the start of a character: each block decodes on its own
        try:
            block = data[start:end].decode("utf-8", "surrogatepass")  # as json.loads decodes
        except UnicodeDecodeError as exc:
            raise NotStreamable("not UTF-8") from exc
        self._text = self._text[self._pos :] + block
        self._pos = 0
        self._next = end
        return True

    def _byte_offset(self) -> int:
        """Where the text not yet read starts in the bytes given."""
        unread = self._text[self._pos :].encode("utf-8", "surrogatepass")
        return self._next - len(unread)

    def _seek(self, offset: int) -> None:
        """Go on reading at byte ``offset`` (between two values)."""
        self._text, self._pos, self._next = "", 0, offset

    def peek(self) -> str:
        """The next character that is not whitespace (``""`` at the end), left unread."""
        while True:
            text, pos = self._text, self._pos
            while pos < len(text) and text[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < len(text):
                return text[pos]
            if not self._more():
                return ""

    def take(self, char: str) -> None:
        """Read ``char`` (after whitespace), or raise :class:`NotStreamable`."""
        if self.peek() != char:
            raise NotStreamable(f"expected {char!r}")
        self._pos += 1

    def value(self) -> Any:
        """Parse the next value whole."""
        self.peek()
        while True:
            try:
                value, end = self._decode(self._text, self._pos)
            except ValueError:
                if self._more():  # cut off by the end of a block: read on
                    continue
                raise NotStreamable("not valid JSON") from None
            if len(self._text) - end < 3 and self._more():  # a number may go on: "1" of "1.5e3"
                continue
            self._pos = end
            return value

    def elements(self) -> Iterator[Any]:
        """The values of the array that comes next, one at a time.

        With orjson and bytes, the elements are parsed a batch at a time
        (:meth:`_batches`); the standard library reads the rest.
        """
        self.take("[")
        if self.peek() == "]":
            self._pos += 1
            return
        batched = self._data if orjson is not None else None
        while True:
            if batched is not None:
                yield from self._batches(batched)
                batched = None
            yield self.value()
            if self.peek() == "]":
                self._pos += 1
                return
            self.take(",")

    def _batches(self, data: bytes | bytearray) -> Iterator[Any]:
        """Elements of the array being read, parsed by orjson about 256 KiB at a time.

        Batches end where the next element starts with the same bytes as the
        first one up to its first key (``{"objectId"``): such bytes cannot be
        inside a string (its quotes would be escaped), and a batch that ends
        anywhere but between two elements of this array (in a nested object
        that starts so) is not valid JSON when put in brackets, so orjson
        refuses it and the next such place is tried. Each batch is parsed as
        :func:`loads` parses, or left to the standard library; whatever is
        left (the last batch, or all from a batch refused) is read by
        :meth:`value`, starting where the last batch parsed ended.
        """
        start = self._byte_offset()
        signature = _first_key(data, start)
        view = memoryview(data)
        while signature:
            items: Any = _UNDECIDED
            cut = start + _BATCH_BYTES - 1
            for _ in range(_CUTS_TRIED):  # the same bytes may open a nested object too
                cut = data.find(signature, cut + 1)
                if cut < 0:
                    break
                end = cut
                while data[end - 1] in _WHITESPACE_BYTES:  # the element before cut ends by then
                    end -= 1
                if data[end - 1] == _COMMA:  # one copy: the batch in brackets
                    items = _orjson_loads(b"".join((b"[", view[start : end - 1], b"]")))
                    if items is not _UNDECIDED:
                        break
            if items is _UNDECIDED:
                break
            yield from items
            start = cut
        self._seek(start)

    def members(self) -> Iterator[str]:
        """The keys of the object that comes next; read each one's value before the next key."""
        self.take("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise NotStreamable("expected a key")
            key = self.value()
            self.take(":")
            yield key
            if self.peek() == "}":
                self._pos += 1
                return
            self.take(",")

    def end(self) -> None:
        """Check that nothing but whitespace is left."""
        if self.peek():
            raise NotStreamable("extra data")


def _first_key(data: bytes | bytearray, start: int) -> bytes:
    """The bytes of the object at ``start`` up to its first key, quotes included; else b""."""
    match = _FIRST_KEY.match(data, start)
    return match.group() if match else b""


#: An object's opening up to its first key: a key without escapes, as ticket objects have.
_FIRST_KEY: Final = re.compile(rb'\{[ \t\n\r]*"[^"\\]{1,200}"')
