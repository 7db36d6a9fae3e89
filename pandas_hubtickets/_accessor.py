"""The ``DataFrame.hubtickets`` accessor: a thin facade over the pure modules and the updater."""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ._coerce import Coerced, CoerceOptions, coerce_frame, validate_frame
from ._columns import find_id_column
from ._definitions import Definitions
from ._flatten import current
from ._payload import Api, NaMode, ProblemList, check_batch_size, encode_frame
from .errors import (
    ArgumentTypeError,
    ConfigurationError,
    DefinitionsUnavailable,
    HubSpotError,
    TransportError,
)

if TYPE_CHECKING:
    from ._client import TicketsClient
    from ._update import UpdateResult

__all__ = ["HubTicketsAccessor"]


@pd.api.extensions.register_dataframe_accessor("hubtickets")
class HubTicketsAccessor:
    """HubSpot tickets in pandas, for both shapes of frame.

    A *wide* frame (a ticket id plus one column per ticket property) becomes
    HubSpot batch-update bodies with :meth:`to_payload`, :meth:`to_batches` and
    :meth:`to_json`. A *tidy* frame (one row per property version, as made by
    :func:`pandas_hubtickets._flatten`) goes back to wide form with
    :meth:`current`.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandas_hubtickets  # registers the accessor
    >>> df = pd.DataFrame({"objectId": [176602], "status": ["CLOSED"]})
    >>> df.hubtickets.to_payload()
    [{'objectId': 176602, 'properties': [{'name': 'status', 'value': 'CLOSED'}]}]
    """

    def __init__(self, pandas_obj: pd.DataFrame) -> None:
        if isinstance(pandas_obj.columns, pd.MultiIndex):
            raise AttributeError(
                "hubtickets needs flat column labels (one column per ticket property), "
                "not a MultiIndex: flatten the columns first"
            )
        self._obj = pandas_obj

    def to_payload(
        self,
        properties: Sequence[Hashable] | str | None = None,
        *,
        id_column: str | None = None,
        na: NaMode = "skip",
        api: Api = "v1",
    ) -> Any:
        """Build the batch-update request body for every row.

        Parameters
        ----------
        properties : list of str, optional
            The columns to send, in this order. By default every column but
            the id column.
        id_column : str, optional
            The column holding the ticket id, or the name of the index that
            holds it. By default the one column or index named ``objectId``,
            ``hs_object_id``, ``Ticket ID`` (HubSpot exports) or ``id``, case
            and spaces aside (the command line's rule too).
        na : {"skip", "clear", "error"}, default "skip"
            What a missing value (None, NaN, NaT, pd.NA) means. ``"skip"``
            leaves the property out, so HubSpot keeps its value; ``"clear"``
            sends ``""``, which clears it; ``"error"`` refuses the frame.
            A row with nothing left to send is left out of the body.
        api : {"v1", "2026-03"}, default "v1"
            The body shape: CRM Objects v1 ``tickets/batch-update`` (a list of
            ``{"objectId", "properties": [{"name", "value"}]}``), or the
            date-versioned API's ``{"inputs": [{"id", "properties": {...}}]}``.

        Returns
        -------
        list or dict
            The body, in row order, every value a string (see the README's
            value-encoding table).

        Raises
        ------
        PayloadError
            Listing every problem at once (``.problems`` is a DataFrame with
            columns ``row``, ``objectId``, ``column``, ``code``, ``value``,
            ``problem``): a missing
            id column; ids missing, not whole, not positive or duplicated;
            bad property names; values that cannot be sent.

        Examples
        --------
        >>> import pandas as pd
        >>> import pandas_hubtickets
        >>> df = pd.DataFrame(
        ...     {"status": ["CLOSED", None], "priority": [1.0, 2.5]},
        ...     index=pd.Index([176602, 178218], name="Ticket ID"),
        ... )
        >>> df.hubtickets.to_payload(id_column="Ticket ID")  # doctest: +NORMALIZE_WHITESPACE
        [{'objectId': 176602, 'properties': [{'name': 'status', 'value': 'CLOSED'},
                                             {'name': 'priority', 'value': '1'}]},
         {'objectId': 178218, 'properties': [{'name': 'priority', 'value': '2.5'}]}]
        >>> df.hubtickets.to_payload(id_column="Ticket ID", api="2026-03")["inputs"][1]
        {'id': '178218', 'properties': {'priority': '2.5'}}
        """
        encoded = encode_frame(self._obj, properties, id_column=self._id(id_column), na=na, api=api)
        return encoded.flavor.wrap(encoded.records())

    def to_batches(
        self,
        batch_size: int = 100,
        properties: Sequence[Hashable] | str | None = None,
        *,
        id_column: str | None = None,
        na: NaMode = "skip",
        api: Api = "v1",
    ) -> Iterator[Any]:
        """Bodies of at most ``batch_size`` tickets each, in row order.

        The frame is validated and encoded before this returns, so a bad frame
        raises here and not half-way through the iteration.

        Parameters
        ----------
        batch_size : int, default 100
            Tickets per body, from 1 to 100 (HubSpot's limit), as in :meth:`update`.
        properties, id_column, na, api
            As in :meth:`to_payload`.

        Returns
        -------
        iterator of list or dict

        Examples
        --------
        >>> import pandas as pd
        >>> import pandas_hubtickets
        >>> df = pd.DataFrame({"objectId": [1, 2, 3], "subject": ["a", "b", "c"]})
        >>> [len(b) for b in df.hubtickets.to_batches(2)]
        [2, 1]
        """
        batch_size = check_batch_size(batch_size)
        encoded = encode_frame(self._obj, properties, id_column=self._id(id_column), na=na, api=api)
        return (encoded.flavor.wrap(encoded.records(rows)) for rows in encoded.batches(batch_size))

    def to_json(
        self,
        properties: Sequence[Hashable] | str | None = None,
        *,
        id_column: str | None = None,
        na: NaMode = "skip",
        api: Api = "v1",
    ) -> str:
        """The request body of :meth:`to_payload` as compact JSON text.

        Built column by column with pyarrow, without Python objects per cell:
        this is what travels, and how the client builds its request bodies.
        ``json.loads(df.hubtickets.to_json()) == df.hubtickets.to_payload()``.

        Examples
        --------
        >>> import pandas as pd
        >>> import pandas_hubtickets
        >>> pd.DataFrame({"objectId": [7], "is_escalated": [True]}).hubtickets.to_json()
        '[{"objectId":7,"properties":[{"name":"is_escalated","value":"true"}]}]'
        """
        encoded = encode_frame(self._obj, properties, id_column=self._id(id_column), na=na, api=api)
        return encoded.body_text()

    def update(
        self,
        client: TicketsClient,
        properties: Sequence[Hashable] | str | None = None,
        *,
        id_column: str | None = None,
        batch_size: int = 100,
        na: NaMode = "skip",
        progress: bool | None = None,
        journal: str | os.PathLike[str] | None = None,
        dry_run: bool = False,
        check_properties: bool = True,
        on_invalid: Literal["raise", "skip"] = "raise",
        tickets: bool = True,
        coerce: bool | CoerceOptions | Mapping[str, Any] = False,
    ) -> UpdateResult:
        """Send every row to HubSpot as v1 batch updates and report what happened to each.

        The frame is validated first (a :class:`~pandas_hubtickets.PayloadError`
        before anything is sent); batches then go out through ``client``,
        rate-limited and retried, up to ``client.max_workers`` at a time. A
        batch HubSpot rejects as a whole with a 400 (one bad ticket fails a v1
        batch, and the error does not say which) is split in halves until the
        bad rows are isolated, so every valid row still lands.

        Parameters
        ----------
        client : TicketsClient
            Where to send (HubSpot, or the local emulator).
        properties, id_column, na
            As in :meth:`to_payload`.
        batch_size : int, default 100
            Tickets per request, from 1 to 100.
        progress : bool, optional
            Show a tqdm progress bar; by default only on a terminal or in Jupyter.
        journal : path, optional
            An append-only JSON Lines record of every finished batch. Running
            the same update again with the same journal sends only the rows
            not yet updated with these values.
        dry_run : bool, default False
            Every check of a real run (the property definitions are read:
            one GET request), nothing written. Rows that would be sent are
            ``dry_run``, rows that would be refused ``failed`` with the code
            (with ``on_invalid="raise"``, the same PayloadError a real run
            raises); the result's ``payload`` is the body that would be sent
            (without the rows the journal says are done). Only HubSpot can
            tell an unknown ticket id: such a row is ``dry_run`` here and
            ``failed`` in a real run.
        check_properties : bool, default True
            Read HubSpot's ticket property definitions first (one request) and
            check every column and value against them: unknown or read-only
            properties, enumeration values that are not options (labels
            instead of values), booleans, numbers, dates not at midnight UTC,
            spaces around non-text values. HubSpot refuses a whole batch for
            one such value, so finding them here saves the requests that
            would isolate them. When the definitions cannot be read, the run
            raises :class:`~pandas_hubtickets.DefinitionsUnavailable`; pass
            ``False`` to send without the check.
        on_invalid : {"raise", "skip"}, default "raise"
            What to do with rows that cannot be sent as they are (bad ids,
            duplicates, unsendable values, values the definitions refuse),
            all found in one pass: ``"raise"`` refuses the frame with a
            :class:`~pandas_hubtickets.PayloadError` listing them all;
            ``"skip"`` reports those rows ``failed`` (``error`` holds the
            first code, ``result.problems`` every problem) and sends the
            others. A frame-level problem (no id column, a column HubSpot
            does not have, a read-only one) always raises.
        tickets : bool, default True
            Collect what HubSpot returned as the tidy ``result.tickets`` (one
            row per property version, each answer flattened as it arrives).
            ``False`` keeps none of it (``result.tickets`` is empty): for big
            pushes, memory then stays proportional to the frame and the report.
        coerce : bool, CoerceOptions or dict, default False
            Convert the frame first, as :meth:`coerce` does (``True``, or its
            options: ``coerce={"dayfirst": True, "thousands": ","}``), with
            the definitions this run reads anyway (one request). The values
            it cannot convert are problems like any other, under ``on_invalid``;
            ``result.failed_rows()`` then gives the coerced rows.

        Returns
        -------
        UpdateResult
            ``.report`` has one row per input row (same index and order):
            ``objectId``, ``status`` (``updated``, HubSpot's answer lists the
            ticket; ``already_updated``, the journal's rows from an earlier
            run; ``failed``; ``unknown``, the request may have been applied
            but HubSpot did not confirm it: check or resend; ``skipped``,
            nothing to send; ``not_sent``; ``dry_run``), ``http_status``,
            ``error``, ``message``, ``attempts``, ``batch``; ``.counts`` the
            rows per status; ``.problems`` every problem of the rows refused
            before sending; ``.tickets`` the tidy frame of what HubSpot
            returned; ``.failed_rows()`` the rows to fix and resend.

        Raises
        ------
        ArgumentTypeError
            An argument of the wrong type (a ``TypeError``), e.g. a URL
            instead of a ``TicketsClient``.
        ConfigurationError
            A bad argument value (a ``ValueError``): ``batch_size`` out of
            range, an unknown ``na`` or ``on_invalid``, a journal folder.
        PayloadError
            Bad input, before anything is sent: see :meth:`to_payload`, and
            ``check_properties``.
        DefinitionsUnavailable
            The property definitions could not be read (nothing was sent).
        UpdateStopped
            The run stopped early (HubSpot unreachable, its DAILY limit, an
            authentication error, an unexpected error); ``exc.result`` is the
            partial result, rows not sent are ``not_sent``.
        UpdateInterrupted
            Ctrl-C; a ``KeyboardInterrupt`` carrying ``exc.result`` likewise.

        Examples
        --------
        >>> import pandas as pd
        >>> import pandas_hubtickets as ht
        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> with FakeHubSpot() as hub:
        ...     ids = hub.seed_tickets(3)
        ...     client = ht.TicketsClient(hub.token, base_url=hub.base_url)
        ...     edits = pd.DataFrame({"objectId": ids, "status": ["CLOSED", "OPEN", "NOPE"]})
        ...     result = edits.hubtickets.update(client, progress=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        pandas_hubtickets.errors.PayloadError: 1 problem found before building the payload:
          - row 2, objectId 100003, column 'status': INVALID_OPTION: 'NOPE' is not an option...
        >>> with FakeHubSpot() as hub:
        ...     ids = hub.seed_tickets(3)
        ...     client = ht.TicketsClient(hub.token, base_url=hub.base_url)
        ...     edits = pd.DataFrame({"objectId": ids, "status": ["CLOSED", "OPEN", "NOPE"]})
        ...     result = edits.hubtickets.update(client, on_invalid="skip", progress=False)
        >>> result.report[["status", "error"]].values.tolist()
        [['updated', <NA>], ['updated', <NA>], ['failed', 'INVALID_OPTION']]
        """
        from ._update import update

        frame, found, definitions = self._obj, None, None
        if coerce is not False:
            options = CoerceOptions.of(coerce)
            definitions = definitions_of(client, fresh=True)
            coerced = coerce_frame(self._obj, definitions, options, id_column=id_column)
            _warn_dropped(coerced)
            frame, found = coerced.frame, ProblemList(coerced.frame.index)
            found.extend(coerced.found)
        return update(
            frame,
            client,
            properties,
            id_column=id_column,
            batch_size=batch_size,
            na=na,
            progress=progress,
            journal=journal,
            dry_run=dry_run,
            check_properties=check_properties,
            on_invalid=on_invalid,
            tickets=tickets,
            problems=found,
            definitions=definitions,
        )

    # --- from a spreadsheet: coercion driven by the property definitions -----------------

    def _id(self, id_column: str | None) -> str:
        return find_id_column(self._obj, id_column)

    def coerce(
        self,
        defs: TicketsClient | Definitions,
        *,
        dayfirst: bool | None = None,
        thousands: str | None = None,
        decimal: str = ".",
        tz: str | None = None,
        excel_epoch: int = 1900,
        rename: Mapping[str, str] | None = None,
        id_column: str | None = None,
    ) -> Coerced:
        """Convert the frame to what HubSpot's property definitions accept; record every change.

        Export headers (property labels such as ``"Priority"``) are read as
        property names when the match is exact and unambiguous (case and
        spaces aside); the read-only columns of such an export are left out,
        with a warning. Each value is converted by its property's type:
        option labels to values (each ``;`` part of a multiple checkbox),
        yes/no, y/n, 1/0 to booleans, ISO dates, midnight datetimes and Excel
        serials to epoch milliseconds, number text with the separators named
        here, whitespace stripped (text properties are left exactly as typed).
        Nothing is guessed: what cannot be read unambiguously is reported.

        Parameters
        ----------
        defs : TicketsClient or list of dict
            A client (its definitions are read once and kept), or what
            ``client.properties()`` returned.
        dayfirst : bool, optional
            Read ``05/03/2024`` as 5 March (``True``) or May 3 (``False``);
            by default such dates are reported (``AMBIGUOUS_DATE``).
        thousands : str, optional
            The thousands separator of number text (``","``); by default
            ``1,234`` is reported.
        decimal : {".", ","}, default "."
            The decimal mark of number text.
        tz : str, optional
            The time zone of datetimes written without an offset; by default
            they are reported (``NAIVE_DATETIME``).
        excel_epoch : {1900, 1904}, default 1900
            The date system of Excel serial numbers.
        rename : dict, optional
            Header -> property name, read before export headers.
        id_column : str, optional
            As in :meth:`to_payload`.

        Returns
        -------
        Coerced
            ``.frame`` (converted, every converted value as text), ``.changes``
            (``row``, ``column``, ``old``, ``new``, ``rule``), ``.problems``
            (the columns of ``PayloadError.problems``), ``.mapping`` (headers
            read as names), ``.summary()`` (changes per column and rule).

        Examples
        --------
        >>> import pandas as pd
        >>> import pandas_hubtickets
        >>> sheet = pd.DataFrame({
        ...     "Ticket ID": [176000, 176001],
        ...     "Priority": ["High", "low "],
        ...     "Due date": ["2024-03-05", "05/03/2024"],
        ... })
        >>> fixed = sheet.hubtickets.coerce(client, dayfirst=True)
        >>> fixed.frame.to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
        {'Ticket ID': [176000, 176001], 'hs_ticket_priority': ['HIGH', 'LOW'],
         'due_date': ['1709596800000', '1709596800000']}
        >>> summary = fixed.summary()[["column", "rule", "cells"]]
        >>> summary.values.tolist()  # doctest: +NORMALIZE_WHITESPACE
        [['hs_ticket_priority', 'option_label', 2], ['due_date', 'iso_date', 1],
         ['due_date', 'dayfirst_date', 1]]
        """
        options = CoerceOptions(dayfirst, thousands, decimal, tz, excel_epoch, rename)
        coerced = coerce_frame(self._obj, definitions_of(defs), options, id_column=id_column)
        _warn_dropped(coerced)
        return coerced

    def validate(
        self,
        defs: TicketsClient | Definitions,
        *,
        coerce: bool = False,
        dayfirst: bool | None = None,
        thousands: str | None = None,
        decimal: str = ".",
        tz: str | None = None,
        excel_epoch: int = 1900,
        rename: Mapping[str, str] | None = None,
        id_column: str | None = None,
        na: NaMode = "skip",
    ) -> pd.DataFrame:
        """Every problem :meth:`update` would refuse the frame for, as a frame; never raises.

        Parameters
        ----------
        defs : TicketsClient or list of dict
            As in :meth:`coerce`.
        coerce : bool, default False
            ``False``: the frame as it is (what ``update`` refuses).
            ``True``: what is left after :meth:`coerce` with the options
            below (what ``update(coerce=...)`` refuses).
        dayfirst, thousands, decimal, tz, excel_epoch, rename
            As in :meth:`coerce`; only with ``coerce=True``.
        id_column, na
            As in :meth:`update`.

        Returns
        -------
        pandas.DataFrame
            Columns ``row``, ``objectId``, ``column``, ``code``, ``value``,
            ``problem`` (as ``PayloadError.problems``); empty when nothing
            would be refused.

        Raises
        ------
        ConfigurationError
            A coercion option without ``coerce=True``.

        Examples
        --------
        >>> import pandas as pd
        >>> import pandas_hubtickets
        >>> sheet = pd.DataFrame({"objectId": [176000, 176001], "is_escalated": ["Yes", "maybe"]})
        >>> sheet.hubtickets.validate(client)[["row", "code", "value"]].values.tolist()
        [[0, 'INVALID_BOOLEAN', 'Yes'], [1, 'INVALID_BOOLEAN', 'maybe']]
        >>> sheet.hubtickets.validate(client, coerce=True)[["row", "code", "value"]].values.tolist()
        [[1, 'INVALID_BOOLEAN', 'maybe']]
        """
        options = CoerceOptions(dayfirst, thousands, decimal, tz, excel_epoch, rename)
        if not isinstance(coerce, bool):
            raise ArgumentTypeError(f"coerce must be True or False, got {type(coerce).__name__}")
        if not coerce and (options != CoerceOptions() or rename is not None):
            raise ConfigurationError(
                "dayfirst=, thousands=, decimal=, tz=, excel_epoch= and rename= apply to "
                "coercion: pass coerce=True with them"
            )
        return validate_frame(
            self._obj,
            definitions_of(defs),
            options if coerce else None,
            id_column=id_column,
            na=na,
        )

    def current(self) -> pd.DataFrame:
        """The wide form of a tidy frame: one row per ticket, its current values.

        Returns
        -------
        pandas.DataFrame
            ``objectId`` plus one column per property holding version 0.

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> ticket = {"objectId": 5, "portalId": 62515, "properties": {"status": {"value": "OPEN"}}}
        >>> tidy = ht.flatten([ticket])
        >>> tidy.hubtickets.current()["status"].tolist()
        ['OPEN']
        """
        return current(self._obj)


# the definitions each client read last (``coerce``/``validate`` read them once per client)
_DEFINITIONS: weakref.WeakKeyDictionary[TicketsClient, list[dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def definitions_of(defs: object, *, fresh: bool = False) -> Definitions:
    """The definitions ``defs`` gives: read from a client (once, unless ``fresh``), or as given.

    Raises
    ------
    DefinitionsUnavailable
        The client could not read them.
    """
    from ._client import TicketsClient

    if isinstance(defs, TicketsClient):
        if fresh or defs not in _DEFINITIONS:
            try:
                _DEFINITIONS[defs] = defs.properties()
            except (HubSpotError, TransportError) as exc:
                raise DefinitionsUnavailable(
                    f"could not read HubSpot's ticket property definitions to coerce the "
                    f"values ({exc}); nothing was sent"
                ) from exc
        return _DEFINITIONS[defs]
    if isinstance(defs, (list, tuple, pd.DataFrame)):
        return defs
    raise ArgumentTypeError(
        "defs must be a TicketsClient or the list client.properties() returns, "
        f"got {type(defs).__name__}"
    )


def _warn_dropped(coerced: Coerced) -> None:
    """One warning for the read-only columns of an export left out by coercion."""
    if coerced.columns.dropped:
        shown = ", ".join(f"{h!r} ({n})" for h, n in coerced.columns.dropped.items())
        warnings.warn(
            f"read-only columns of the export left out: {shown}", UserWarning, stacklevel=3
        )
