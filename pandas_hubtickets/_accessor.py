"""The ``DataFrame.hubtickets`` accessor: a thin facade over the pure modules and the updater."""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from . import _labels
from ._api import Api
from ._coerce import Coerced, CoerceOptions, coerce_frame, validate_frame
from ._history import Definitions, changes, current, durations, transitions
from ._payload import EncodedFrame, NaMode, ProblemList, check_batch_size, encode_frame
from .errors import (
    ArgumentTypeError,
    ConfigurationError,
    DefinitionsUnavailable,
    HubSpotError,
    TransportError,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._client import TicketsClient
    from ._labels import Catalogue
    from ._plot import TimeUnit
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
        id_property: str | None = None,
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
        api : {"v1", "v3", "2026-03"}, default "v1"
            The body shape: CRM Objects v1 ``tickets/batch-update`` (a list of
            ``{"objectId", "properties": [{"name", "value"}]}``), or the
            date-versioned API's (and v3's) ``{"inputs": [{"objectWriteTraceId",
            "id", "properties": {...}}]}``, ``objectWriteTraceId`` being the
            row's position in the frame (HubSpot repeats it on each result).
        id_property : str, optional
            Identify tickets by this unique property instead of HubSpot's id
            (date-versioned APIs only: with v1 a ConfigurationError): the id
            column (by default the one named after the property, else the
            usual one) holds its values, as text (non-empty, no spaces around
            them, one row each), sent as ``id`` with ``"idProperty"``.

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
        {'objectWriteTraceId': '1', 'id': '178218', 'properties': {'priority': '2.5'}}
        >>> sheet = pd.DataFrame({"external_ticket_ref": ["EXT-1"], "status": ["CLOSED"]})
        >>> sheet.hubtickets.to_payload(api="2026-03", id_property="external_ticket_ref")
        ... # doctest: +NORMALIZE_WHITESPACE
        {'inputs': [{'objectWriteTraceId': '0', 'idProperty': 'external_ticket_ref',
                     'id': 'EXT-1', 'properties': {'status': 'CLOSED'}}]}
        """
        encoded = self._encoded(properties, id_column, na, api, id_property)
        return encoded.flavor.wrap(encoded.records())

    def _encoded(
        self,
        properties: Sequence[Hashable] | str | None,
        id_column: str | None,
        na: NaMode,
        api: Api,
        id_property: str | None,
    ) -> EncodedFrame:
        """The frame validated and encoded, the id column found by :func:`id_column_of`."""
        from ._update import id_column_of

        column = id_column_of(self._obj, id_column, id_property)
        return encode_frame(
            self._obj, properties, id_column=column, na=na, api=api, id_property=id_property
        )

    def to_batches(
        self,
        batch_size: int = 100,
        properties: Sequence[Hashable] | str | None = None,
        *,
        id_column: str | None = None,
        na: NaMode = "skip",
        api: Api = "v1",
        id_property: str | None = None,
    ) -> Iterator[Any]:
        """Bodies of at most ``batch_size`` tickets each, in row order.

        The frame is validated and encoded before this returns, so a bad frame
        raises here and not half-way through the iteration.

        Parameters
        ----------
        batch_size : int, default 100
            Tickets per body, from 1 to 100 (HubSpot's limit), as in :meth:`update`.
        properties, id_column, na, api, id_property
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
        encoded = self._encoded(properties, id_column, na, api, id_property)
        return map(encoded.flavor.wrap, encoded.record_batches(batch_size))

    def to_json(
        self,
        properties: Sequence[Hashable] | str | None = None,
        *,
        id_column: str | None = None,
        na: NaMode = "skip",
        api: Api = "v1",
        id_property: str | None = None,
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
        encoded = self._encoded(properties, id_column, na, api, id_property)
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
        on_invalid: Literal["raise", "skip", "skip_cells"] = "raise",
        tickets: bool = True,
        only_changed: bool = False,
        undo: str | os.PathLike[str] | None = None,
        coerce: bool | CoerceOptions | Mapping[str, Any] = False,
        id_property: str | None = None,
    ) -> UpdateResult:
        """Send every row to HubSpot as batch updates and report what happened to each.

        The frame is validated first (a :class:`~pandas_hubtickets.PayloadError`
        before anything is sent); batches then go out through ``client``,
        rate-limited and retried, up to ``client.max_workers`` at a time. A
        batch HubSpot rejects as a whole with a 400 (one bad ticket fails a v1
        batch, and the error does not say which) is split in halves until the
        bad rows are isolated, so every valid row still lands. With a
        date-versioned client (``api="2026-03"`` or ``"v3"``) each answer is
        mapped to the rows by ``objectWriteTraceId`` and a 207's errors by the
        ids they name, so no split is needed when HubSpot names the culprit;
        a whole-batch 400 is split like v1's.

        Parameters
        ----------
        client : TicketsClient
            Where to send (HubSpot, or the local emulator).
        properties, id_column, na, id_property
            As in :meth:`to_payload` (the body shape is ``client.api``'s).
            With ``id_property``, ``only_changed`` reads the tickets by that
            property (see :meth:`diff`).
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
            others; ``"skip_cells"`` leaves out only the refused cells: a
            row's valid cells are sent, and it is ``partly_updated`` when
            HubSpot confirms them (``error`` the first refused code,
            ``message`` the cells left out, ``result.problems`` every one);
            a row with no valid cell left, or a bad id, is ``failed``. A
            frame-level problem (no id column, a column HubSpot does not
            have, a read-only one) always raises.
        tickets : bool, default True
            Collect what HubSpot returned as the tidy ``result.tickets`` (one
            row per property version, each answer flattened as it arrives).
            ``False`` keeps none of it (``result.tickets`` is empty): for big
            pushes, memory then stays proportional to the frame and the report.
        only_changed : bool, default False
            Read the tickets first (see :meth:`diff`: one request per 100
            tickets) and send only the cells that differ from HubSpot's
            values. Rows with nothing that differs are ``unchanged`` (nothing
            sent, no new version in the ticket's history); rows whose ticket
            does not exist or was deleted are ``failed`` with
            ``OBJECT_NOT_FOUND``, never sent. ``result.changes`` lists every
            changed cell; with ``dry_run=True`` it is the preview.
        undo : path, optional
            With ``only_changed=True``: a new Parquet file where every cell
            about to change is written (``objectId``, ``property``, ``old``,
            ``new``; with ``id_property`` also ``hs_object_id``, the ticket's
            HubSpot id) before anything is sent, made durable;
            ``ht.undo(client, path)`` restores those values later, by ticket
            id. An existing file is refused.
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
        from ._update import id_column_of, update

        frame, found, definitions = self._obj, None, None
        if id_property is not None:  # coercion must leave that column alone too
            id_column = id_column_of(self._obj, id_column, id_property)
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
            only_changed=only_changed,
            undo=undo,
            problems=found,
            definitions=definitions,
            id_property=id_property,
        )

    # --- from a spreadsheet: coercion driven by the property definitions -----------------

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

    def diff(
        self,
        client: TicketsClient,
        properties: Sequence[Hashable] | str | None = None,
        *,
        id_column: str | None = None,
        na: NaMode = "skip",
        progress: bool | None = False,
        id_property: str | None = None,
    ) -> pd.DataFrame:
        """What :meth:`update` would change: each cell that differs from HubSpot's value.

        The frame is encoded as :meth:`update` would send it and compared with
        the tickets' current values (read in batches of 100 through the
        client's rate limiter and retries, up to ``client.max_workers`` at a
        time), so ``"3"`` and ``3.0`` are equal, and so are a date and its
        midnight milliseconds. A missing value (``na="skip"``) changes
        nothing; an empty string and no value are equal. Nothing is written.

        Parameters
        ----------
        client : TicketsClient
            Where to read.
        properties, id_column, na
            As in :meth:`to_payload`.
        progress : bool, optional
            Show a progress bar of the tickets read (default: no bar).
        id_property : str, optional
            The id column holds this unique property's values (date-versioned
            APIs only, as in :meth:`update`): the tickets are read by them.

        Returns
        -------
        pandas.DataFrame
            One row per changed cell, in row then column order, indexed by
            the input rows' labels: ``objectId`` (with ``id_property``, its
            value), ``property``, ``old`` (HubSpot's value, missing when it
            has none), ``new`` (the string that would be sent), ``problem``
            (missing; for a ticket that does not exist or was deleted, one
            row saying so, with no property); with ``id_property`` also
            ``hs_object_id``, the HubSpot id of the ticket found.

        Raises
        ------
        PayloadError
            Bad input (see :meth:`to_payload`), before anything is read.
        ConfigurationError
            ``id_property`` with a v1 client.
        HubSpotError, TransportError
            The tickets could not be read.

        Examples
        --------
        >>> import pandas as pd
        >>> import pandas_hubtickets
        >>> edits = pd.DataFrame({"objectId": [176602, 178218, 999],
        ...                       "subject": ["ticket 176602", "renamed", "x"]})
        >>> changes = edits.hubtickets.diff(client)
        >>> changes.index.tolist()  # the input rows: row 0 holds the same subject
        [1, 2]
        >>> print(changes.loc[1, "property"], changes.loc[1, "old"], "->", changes.loc[1, "new"])
        subject ticket 178218 -> renamed
        >>> changes.loc[2, "problem"]
        'ticket 999 does not exist or was deleted: nothing can be changed'
        """
        from ._diff import diff

        return diff(
            self._obj,
            client,
            properties,
            id_column=id_column,
            na=na,
            progress=progress,
            id_property=id_property,
        )

    # -- tidy frames: ticket history (_history.py, _plot.py) ----------------------------------

    def current(
        self,
        as_of: Any = None,
        typed: bool = False,
        definitions: TicketsClient | Definitions | None = None,
        *,
        labels: TicketsClient | Catalogue | None = None,
    ) -> pd.DataFrame:
        """The wide form of a tidy frame: one row per ticket, its values now or at ``as_of``.

        See :func:`pandas_hubtickets._history.current` for the parameters and
        the dtypes of ``typed=True``. With ``labels`` (a client or a
        :class:`~pandas_hubtickets.Catalogue`) the result goes through
        :meth:`label`: stage, pipeline and owner columns and enumerations
        read as labels, ordered categoricals in HubSpot's order.

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> ticket = {"objectId": 5, "portalId": 62515, "properties": {"status": {"value": "OPEN"}}}
        >>> tidy = ht.flatten([ticket])
        >>> tidy.hubtickets.current()["status"].tolist()
        ['OPEN']
        >>> typed = tidy.hubtickets.current(typed=True, definitions=client)
        >>> typed["status"].cat.categories.tolist()  # the options, in display order
        ['OPEN', 'IN_PROGRESS', 'WAITING', 'CLOSED']
        >>> tidy.hubtickets.current(labels=client)["status"].tolist()  # the option's label
        ['Open']
        """
        wide = current(self._obj, as_of, typed, definitions)
        return wide if labels is None else _labels.label(wide, labels)

    # ------------------------------------------------------------------ labels
    def label(
        self, labels: TicketsClient | Catalogue, *, property: str | None = None
    ) -> pd.DataFrame:
        """Replace ids with the names people read, as ordered categoricals.

        Stage ids (``hs_pipeline_stage``) become stage labels, pipeline ids
        pipeline labels, owner ids (``hubspot_owner_id``) owner names, and
        enumeration values their options' labels. Categories follow HubSpot's
        order: stages pipeline by pipeline in display order (a chart reads
        left to right through the pipeline), options in display order,
        owners by name. A stage label two pipelines share becomes
        ``"Pipeline: Stage"``.

        Works on a tidy frame (``property`` and ``value``, as from
        :func:`~pandas_hubtickets.flatten`), on frames of one property's
        values (columns ``value``, ``from``/``to`` or ``old``/``new``, with a
        ``property`` column or ``property=``), and on wide frames (one column
        per property, as from :meth:`current`). Where the values are of one
        property, each such column becomes an ordered categorical with all
        the property's labels as categories (``from`` and ``to`` share
        them); in a frame mixing properties, each row's value becomes its
        label as text. Stage values also get a ``pipeline`` column (after
        ``value``). Multiple-checkbox values become ``"Label A; Label B"``.

        Parameters
        ----------
        labels : TicketsClient or Catalogue
            Where the labels come from: a client (pipelines and owners are
            read once per client, the property definitions once per call,
            each only when the frame needs it) or an explicit
            :class:`~pandas_hubtickets.Catalogue` (pipelines frame, owners
            frame, definitions; a property whose part is missing is left
            as it is).
        property : str, optional
            The property the value columns hold, for a frame without a
            ``property`` column (such as the durations or transitions of one
            property); else ``frame.attrs["property"]`` when set.

        Returns
        -------
        pandas.DataFrame
            A relabelled copy. ``result.attrs["unlabelled"]`` maps each
            property to the values that had no label.

        Warns
        -----
        pandas_hubtickets.errors.UnknownLabelsWarning
            Values with no label (a deleted stage, an unknown owner): they
            are kept as they were, as categories after the known ones.

        Raises
        ------
        ArgumentTypeError
            ``labels`` is neither a client nor a catalogue.
        ConfigurationError
            Value columns without a ``property`` column and no ``property=``.

        Examples
        --------
        >>> import pandas as pd
        >>> moves = pd.DataFrame({"from": ["1", "3"], "to": ["3", "4"]})
        >>> labelled = moves.hubtickets.label(client, property="hs_pipeline_stage")
        >>> labelled["to"].tolist()
        ['Waiting on us', 'Closed']
        >>> list(labelled["to"].cat.categories)[:4]
        ['New', 'Waiting on contact', 'Waiting on us', 'Closed']
        """
        from ._labels import label

        return label(self._obj, labels, property=property)

    def durations(
        self,
        property: str = "hs_pipeline_stage",
        until: Any = None,
        *,
        labels: TicketsClient | Catalogue | None = None,
    ) -> pd.DataFrame:
        """Each spell of each value of ``property``, with its start, end and duration.

        Columns ``objectId``, ``value``, ``start``, ``end``, ``duration``,
        ``source``: see :func:`pandas_hubtickets._history.durations`. With
        ``labels`` (a client or a :class:`~pandas_hubtickets.Catalogue`),
        ``value`` holds labels as an ordered categorical (stages in pipeline
        order, with a ``pipeline`` column after it): see :meth:`label`.

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> versions = [{"value": "2", "timestamp": 86_400_000}, {"value": "1", "timestamp": 0}]
        >>> prop = {"hs_pipeline_stage": {"versions": versions}}
        >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
        >>> tidy.hubtickets.durations()["duration"].tolist()
        [Timedelta('1 days 00:00:00'), NaT]
        >>> tidy.hubtickets.durations(labels=client)[["pipeline", "value"]].values.tolist()
        [['Support Pipeline', 'New'], ['Support Pipeline', 'Waiting on contact']]
        """
        spells = durations(self._obj, property, until)
        return spells if labels is None else _labels.label(spells, labels, property=property)

    def transitions(
        self,
        property: str = "hs_pipeline_stage",
        *,
        labels: TicketsClient | Catalogue | None = None,
    ) -> pd.DataFrame:
        """Each change of ``property`` from one value to another.

        Columns ``objectId``, ``from``, ``to``, ``at``, ``source``,
        ``sourceId``: see :func:`pandas_hubtickets._history.transitions`.
        With ``labels`` (a client or a :class:`~pandas_hubtickets.Catalogue`),
        ``from`` and ``to`` hold labels as ordered categoricals sharing the
        property's categories: see :meth:`label`.

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> versions = [{"value": "2", "timestamp": 86_400_000}, {"value": "1", "timestamp": 0}]
        >>> prop = {"hs_pipeline_stage": {"versions": versions}}
        >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
        >>> tidy.hubtickets.transitions().value_counts(["from", "to"]).to_dict()
        {('1', '2'): 1}
        >>> tidy.hubtickets.transitions(labels=client)[["from", "to"]].values.tolist()
        [['New', 'Waiting on contact']]
        """
        moves = transitions(self._obj, property)
        return moves if labels is None else _labels.label(moves, labels, property=property)

    def changes(
        self,
        since: Any = None,
        until: Any = None,
        *,
        labels: TicketsClient | Catalogue | None = None,
    ) -> pd.DataFrame:
        """The audit trail: every change of every property, who or what made it, oldest first.

        Columns ``objectId``, ``property``, ``old``, ``new``, ``timestamp``,
        ``source``, ``sourceId``: see :func:`pandas_hubtickets._history.changes`.
        With ``labels`` (a client or a :class:`~pandas_hubtickets.Catalogue`),
        ``old`` and ``new`` read as labels of each row's property (text where
        properties are mixed, ordered categoricals where one holds throughout,
        as :meth:`label` gives them).

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> status = {"value": "CLOSED", "timestamp": 0, "source": "CRM_UI", "sourceId": "userId:7"}
        >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": {"status": status}})
        >>> tidy.hubtickets.changes()[["new", "sourceId"]].values.tolist()
        [['CLOSED', 'userId:7']]
        >>> tidy.hubtickets.changes(labels=client)["new"].tolist()
        ['Closed']
        """
        trail = changes(self._obj, since, until)
        return trail if labels is None else _labels.label(trail, labels)

    def plot_timeline(
        self,
        property: str = "hs_pipeline_stage",
        tickets: Sequence[int] | None = None,
        *,
        until: Any = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Each ticket's values over time as coloured spans (needs the ``plot`` extra).

        See :func:`pandas_hubtickets._plot.plot_timeline`.

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> versions = [{"value": "2", "timestamp": 86_400_000}, {"value": "1", "timestamp": 0}]
        >>> prop = {"hs_pipeline_stage": {"versions": versions}}
        >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
        >>> [t.get_text() for t in tidy.hubtickets.plot_timeline().get_legend().get_texts()]
        ['1', '2']
        """
        from ._plot import plot_timeline

        return plot_timeline(self._obj, property, tickets, until=until, ax=ax)

    def plot_durations(
        self,
        property: str = "hs_pipeline_stage",
        *,
        unit: TimeUnit | None = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Time spent in each value, a box per value (needs the ``plot`` extra).

        See :func:`pandas_hubtickets._plot.plot_durations`.

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> versions = [{"value": "2", "timestamp": 86_400_000}, {"value": "1", "timestamp": 0}]
        >>> prop = {"hs_pipeline_stage": {"versions": versions}}
        >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
        >>> tidy.hubtickets.plot_durations().get_ylabel()
        'time in hs_pipeline_stage (days)'
        """
        from ._plot import plot_durations

        return plot_durations(self._obj, property, unit=unit, ax=ax)

    def plot_flow(self, property: str = "hs_pipeline_stage", *, ax: Axes | None = None) -> Axes:
        """A heatmap of the transition counts between values (needs the ``plot`` extra).

        See :func:`pandas_hubtickets._plot.plot_flow`.

        Examples
        --------
        >>> import pandas_hubtickets as ht
        >>> versions = [{"value": "2", "timestamp": 86_400_000}, {"value": "1", "timestamp": 0}]
        >>> prop = {"hs_pipeline_stage": {"versions": versions}}
        >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
        >>> tidy.hubtickets.plot_flow().get_title()
        'hs_pipeline_stage: 1 transitions'
        """
        from ._plot import plot_flow

        return plot_flow(self._obj, property, ax=ax)


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
