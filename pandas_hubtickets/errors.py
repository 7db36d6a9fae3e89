"""The library's exceptions, in one small hierarchy.

``HubTicketsError`` is the root. Input problems are ``ValueError`` subclasses
(``PayloadError``, ``FlattenError``, ``ConfigurationError``) so that generic
``except ValueError`` code keeps working; failures of the service or the
transport are ``HubSpotError`` / ``TransportError`` (``UnreachableError``
when no connection could be opened, so nothing was sent); ``UpdateStopped`` is the
early stop of an update run and carries its partial result.

No message built here ever contains an access token: callers pass only
HubSpot's own fields (status, code, message, correlation id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ._encode import is_missing

if TYPE_CHECKING:
    from ._update import UpdateResult

__all__ = [
    "ArgumentTypeError",
    "ConfigurationError",
    "DefinitionsUnavailable",
    "FlattenError",
    "HubSpotError",
    "HubTicketsError",
    "InputFileError",
    "JournalError",
    "PayloadError",
    "RateLimitError",
    "TransportError",
    "UnknownLabelsWarning",
    "UnreachableError",
    "UpdateInterrupted",
    "UpdateStopped",
]

PROBLEM_COLUMNS = ["row", "objectId", "column", "code", "value", "problem"]


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Recreate a pickled exception without calling its ``__init__`` again."""
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class _Picklable:
    """Exceptions whose ``__init__`` takes other arguments than ``args`` still pickle.

    The default ``BaseException.__reduce__`` calls ``cls(*args)`` on unpickling,
    which fails for keyword-only or extra arguments (multiprocessing and joblib
    pickle exceptions to send them back to the parent process).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        assert isinstance(self, BaseException)
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class HubTicketsError(_Picklable, Exception):
    """Base class of every error raised by pandas-hubtickets."""


class PayloadError(HubTicketsError, ValueError):
    """A wide frame that cannot be turned into a payload.

    Raised before anything is built or sent, listing every problem at once.

    Attributes
    ----------
    problems : pandas.DataFrame
        One row per problem (frame-level problems first, then in row order),
        columns ``row`` (the frame's index label, or ``None`` for a
        frame-level problem), ``objectId`` (the id as given), ``column``,
        ``code`` (a machine-readable code such as ``DUPLICATE_ID`` or
        HubSpot's ``INVALID_OPTION``), ``value`` (the offending value, or
        ``None``) and ``problem`` (the message, with the fix where there is one).
    """

    def __init__(self, problems: pd.DataFrame, *, shown: int = 5) -> None:
        self.problems = problems.reset_index(drop=True)[PROBLEM_COLUMNS]
        n = len(self.problems)
        lines = []
        for rec in self.problems.head(shown).itertuples(index=False):
            where = []
            if rec.row is not None:
                where.append(f"row {rec.row!r}")
            if not is_missing(rec.objectId):  # pd.isna raises on Decimal('sNaN')
                where.append(f"objectId {rec.objectId!r}")
            if rec.column is not None:
                where.append(f"column {rec.column!r}")
            lines.append(f"  - {', '.join(where) or 'frame'}: {rec.code}: {rec.problem}")
        more = f"\n  ... and {n - shown} more (see .problems)" if n > shown else ""
        noun = "problem" if n == 1 else "problems"
        super().__init__(
            f"{n} {noun} found before building the payload:\n" + "\n".join(lines) + more
        )


class InputFileError(HubTicketsError, ValueError):
    """A file named on the command line that cannot be read or used as it is."""


class JournalError(HubTicketsError, ValueError):
    """A journal this run cannot use; raised before any batch is sent.

    The file is not a journal of this library (a CSV, say) or of a newer
    format, it cannot be written, or another run holds it (one writer at a
    time: a journal is locked for the whole run).

    Attributes
    ----------
    path : str
        The journal file.
    """

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(message)


class FlattenError(HubTicketsError, ValueError):
    """A response that does not have the shape of HubSpot ticket objects."""


class ConfigurationError(HubTicketsError, ValueError):
    """A bad argument to the client or to an update run (no token, http base URL, ...)."""


class ArgumentTypeError(HubTicketsError, TypeError):
    """An argument of the wrong type; the message names the type expected.

    A ``TypeError``, so that generic ``except TypeError`` code keeps working.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandas_hubtickets as ht
    >>> edits = pd.DataFrame({"objectId": [1], "subject": ["a"]})
    >>> edits.hubtickets.update("https://api.hubapi.com")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.ArgumentTypeError: client must be a TicketsClient (...), got str
    """


class TransportError(HubTicketsError):
    """The request could not be completed (connection refused, timeouts) after all retries.

    Attributes
    ----------
    attempts : int or None
        Requests made before giving up (1 + retries), when known.
    maybe_applied : bool
        True when an attempt of this call may have reached the server and been
        applied (it was sent, then timed out, was reset or cut off, or outlasted
        its deadline): check, or send the same values again (that is safe).
        False when no attempt can have been applied.
    """

    def __init__(
        self, message: str, *, attempts: int | None = None, maybe_applied: bool = False
    ) -> None:
        self.attempts = attempts
        self.maybe_applied = maybe_applied
        super().__init__(message)


class UnreachableError(TransportError):
    """No connection could be opened to the base URL (refused, no such host, connect timeout).

    Nothing was sent, so nothing can have been applied (``maybe_applied`` is
    False). Raised after at most two quick attempts, instead of retrying for minutes.

    Attributes
    ----------
    url : str or None
        The base URL that could not be reached (never a token).
    attempts : int or None
        Connection attempts made.
    """

    def __init__(
        self, message: str, *, attempts: int | None = None, url: str | None = None
    ) -> None:
        self.url = url
        super().__init__(message, attempts=attempts)


class HubSpotError(HubTicketsError):
    """HubSpot answered with an error.

    Attributes
    ----------
    status : int
        The HTTP status code.
    error : str or None
        HubSpot's error code (``INVALID_DATE``, ``PROPERTY_DOESNT_EXIST``,
        ``RATE_LIMIT``, ...) or, lacking one, ``HTTP_<status>``.
    message : str
        HubSpot's message.
    body : Any
        The parsed error body (or the raw text when it was not JSON).
    correlation_id : str or None
        HubSpot's ``correlationId``, for support requests.
    attempts : int or None
        Requests made for this call (1 + retries), when known.
    maybe_applied : bool
        True when this answer or an earlier attempt of the same call may have
        been applied although the call failed: an attempt timed out or was cut
        off after it was sent, or a 2xx came with a body that cannot be read.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error: str | None = None,
        body: Any = None,
        correlation_id: str | None = None,
        attempts: int | None = None,
        maybe_applied: bool = False,
    ) -> None:
        self.attempts = attempts
        self.maybe_applied = maybe_applied
        self.status = status
        self.error = error or f"HTTP_{status}"
        self.message = message
        self.body = body
        self.correlation_id = correlation_id
        cid = f" (correlationId {correlation_id})" if correlation_id else ""
        landed = "; it may have been applied all the same" if maybe_applied else ""
        super().__init__(f"HubSpot answered {status} {self.error}: {message}{cid}{landed}")


class RateLimitError(HubSpotError):
    """A 429 that must not be retried (the ``DAILY`` limit), or retries ran out.

    Attributes
    ----------
    policy : str or None
        HubSpot's ``policyName``: ``DAILY``, ``TEN_SECONDLY_ROLLING``, ``SECONDLY``.
    """

    def __init__(self, status: int, message: str, *, policy: str | None = None, **kw: Any) -> None:
        self.policy = policy
        super().__init__(status, message, **kw)


class DefinitionsUnavailable(HubTicketsError):
    """HubSpot's ticket property definitions could not be read, so values cannot be checked.

    Raised by an update run before anything is sent; the cause (a
    :class:`HubSpotError` such as a 403 for a token without the schema scope,
    or a :class:`TransportError`) is chained as ``__cause__``. Pass
    ``check_properties=False`` to send without the check.
    """


class UpdateStopped(HubTicketsError):
    """An update run that stopped before every batch was sent.

    Attributes
    ----------
    result : UpdateResult
        The partial result: every input row is ``updated``, ``failed``,
        ``skipped`` or ``not_sent``. ``result.failed_rows()`` and the journal
        tell what is left to send.
    """

    def __init__(self, message: str, result: UpdateResult) -> None:
        self.result = result
        super().__init__(message)


class UpdateInterrupted(_Picklable, KeyboardInterrupt):
    """Ctrl-C during an update run; still a ``KeyboardInterrupt``, with the partial result.

    Attributes
    ----------
    result : UpdateResult
        As for :class:`UpdateStopped`.
    """

    def __init__(self, message: str, result: UpdateResult) -> None:
        self.result = result
        super().__init__(message)


# --- warnings (not errors: the work is done; like pandas.errors.PerformanceWarning) ---


class UnknownLabelsWarning(UserWarning):
    """Some values had no label; they were kept as they were (``result.attrs["unlabelled"]``).

    Silence it with ``warnings.simplefilter("ignore", ht.errors.UnknownLabelsWarning)``.
    """
