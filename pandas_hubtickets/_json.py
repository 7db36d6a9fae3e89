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

import codecs
import gc
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

orjson: Any
try:  # the optional accelerator (pip install pandas-hubtickets[fast])
    import orjson
except ImportError:  # pragma: no cover - the tests hide it to run without it
    orjson = None

__all__ = ["NotStreamable", "Reader", "gc_paused", "loads"]

#: Every digit as "0": twenty "0"s in a row then mean an integer orjson may read as a float
#: (beyond 64 bits). bytes.translate and a search are 20 times faster than a regular expression.
_DIGITS_AS_ZERO: Final = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGITS: Final = b"0" * 20
_WHITESPACE: Final = " \t\n\r"

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
        if (
            orjson is not None
            and not isinstance(text, str)
            and _LONG_DIGITS not in text.translate(_DIGITS_AS_ZERO)
        ):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                pass  # json.loads decides, and raises its own error
        return json.loads(text)


class NotStreamable(ValueError):
    """The text is not what :class:`Reader`'s caller expected (or not JSON): parse it whole."""


class Reader:
    """A JSON text read one value at a time, the parsed tree never whole.

    Values are parsed by the standard library's C scanner
    (``JSONDecoder.raw_decode``), so each is exactly what :func:`json.loads`
    makes of it. Bytes are decoded a block at a time. Anything unexpected --
    text that is not JSON, a shape the caller did not ask for -- raises
    :class:`NotStreamable`: the caller then parses the text whole, which
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
        self._blocks: Iterator[str]
        if isinstance(text, str):
            if text.startswith("\ufeff"):
                raise NotStreamable("a byte order mark")
            self._text = text
            self._blocks = iter(())
        else:
            if json.detect_encoding(text) != "utf-8":
                raise NotStreamable("not UTF-8")
            self._text = ""
            self._blocks = _decoded(memoryview(text), block)

    def _more(self) -> bool:
        """Append the next block to the text not yet read; False at the end of the input."""
        block = next(self._blocks, None)
        if block is None:
            return False
        self._text = self._text[self._pos :] + block
        self._pos = 0
        return True

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
        """The values of the array that comes next, one at a time."""
        self.take("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            if self.peek() == "]":
                self._pos += 1
                return
            self.take(",")

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


def _decoded(data: memoryview, block: int) -> Iterator[str]:
    """``data`` decoded from UTF-8 as :func:`json.loads` does, ``block`` bytes at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    try:
        for start in range(0, len(data), block):
            yield decoder.decode(data[start : start + block], start + block >= len(data))
    except UnicodeDecodeError as exc:
        raise NotStreamable("not UTF-8") from exc
