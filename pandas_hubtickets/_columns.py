"""Column names of a wide frame: the ticket id column, and export headers read as property names.

Pure, no I/O. One rule finds the id column for the accessor and the command
line alike (:func:`find_id_column`); :func:`map_columns` reads a HubSpot
export's headers (property labels such as ``"Priority"``) as internal names
when the match is exact and unambiguous, and :func:`unknown_column_hint`
says what a column that names no property probably meant. A near miss is
only ever suggested, never renamed.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .errors import ConfigurationError, PayloadError

if TYPE_CHECKING:
    from ._definitions import _Definition

__all__ = [
    "ID_COLUMNS",
    "ColumnMap",
    "find_id_column",
    "is_id_header",
    "map_columns",
    "unknown_column_hint",
]

#: Headers taken for the ticket id, case and spaces aside: the API's, the property's, an export's.
ID_COLUMNS = ("objectId", "hs_object_id", "Ticket ID", "id")


def _key(text: str) -> str:
    """``text`` compared without case or spaces: ``"Ticket  id"`` and ``"TicketID"`` agree."""
    return "".join(text.split()).casefold()


_ID_KEYS = frozenset(_key(c) for c in ID_COLUMNS)


def is_id_header(label: Hashable) -> bool:
    """Whether ``label`` is one of :data:`ID_COLUMNS`, case and spaces aside.

    Examples
    --------
    >>> [is_id_header(h) for h in ("Ticket ID", "ticket id", "OBJECTID", "ticket", 3)]
    [True, True, True, False, False]
    """
    return isinstance(label, str) and _key(label) in _ID_KEYS


def find_id_column(df: pd.DataFrame, id_column: str | None) -> str:
    """The column (or index name) holding the ticket ids.

    An explicit ``id_column`` is returned as it is (the encoder says when it
    names nothing). ``None`` looks for one of :data:`ID_COLUMNS` (case and
    spaces aside) among the columns and the index names; when there is none,
    ``"objectId"``, so that the refusal lists the frame's columns.

    Raises
    ------
    PayloadError
        Several columns could be the ids (``NO_ID_COLUMN``): never a guess.

    Examples
    --------
    >>> import pandas as pd
    >>> find_id_column(pd.DataFrame(columns=["Ticket ID", "status"]), None)
    'Ticket ID'
    >>> find_id_column(pd.DataFrame({"x": [1]}, index=pd.Index([7], name="hs_object_id")), None)
    'hs_object_id'
    >>> find_id_column(pd.DataFrame(columns=["Ticket ID"]), "mine")
    'mine'
    """
    if id_column is not None:
        return id_column
    labels = [*df.columns, *df.index.names]
    found = list(dict.fromkeys(label for label in labels if is_id_header(label)))
    if len(found) == 1:
        return str(found[0])
    if not found:
        return ID_COLUMNS[0]
    names = ", ".join(repr(f) for f in found)
    message = f"several columns could hold the ticket ids ({names}): pass id_column= to name one"
    problems = pd.DataFrame(
        [[None, None, None, "NO_ID_COLUMN", None, message]],
        columns=["row", "objectId", "column", "code", "value", "problem"],
        dtype=object,
    )
    raise PayloadError(problems)


@dataclass(frozen=True)
class ColumnMap:
    """How the headers of a frame are read as ticket property names.

    Attributes
    ----------
    renames : dict
        Header -> property name, for every header read as another name.
    how : dict
        Header -> why: ``"label"`` (the property's label, as in an export),
        ``"name"`` (its name but for case or spaces) or ``"rename"`` (asked for).
    dropped : dict
        Header -> property name of the read-only or calculated columns of an
        export (a frame where some header was a label), left out.
    """

    renames: dict[Hashable, str]
    how: dict[Hashable, str]
    dropped: dict[Hashable, str]

    def lines(self) -> list[str]:
        """One line per header read as another name: ``'Priority' read as hs_ticket_priority``."""
        return [f"{header!r} read as {name}" for header, name in self.renames.items()]

    def frame(self) -> pd.DataFrame:
        """The mapping as a table: ``header``, ``property``, ``how`` (``dropped`` included)."""
        rows = [(h, n, self.how[h]) for h, n in self.renames.items()]
        rows += [(h, n, "dropped: read-only") for h, n in self.dropped.items()]
        table: pd.DataFrame = pd.DataFrame(
            rows, columns=["header", "property", "how"], dtype=object
        )
        return table


def _index(known: Mapping[str, _Definition]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Property names by the key of their name, and by the key of their label."""
    names: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    for name, d in known.items():
        names.setdefault(_key(name), []).append(name)
        if d.label:
            labels.setdefault(_key(d.label), []).append(name)
    return names, labels


def map_columns(
    columns: Sequence[Hashable],
    known: Mapping[str, _Definition],
    *,
    id_column: str,
    rename: Mapping[str, str] | None = None,
) -> ColumnMap:
    """Read each header as a property name: exact, or an unambiguous name or label match.

    Parameters
    ----------
    columns : sequence
        The frame's headers.
    known : mapping
        The parsed property definitions, by name.
    id_column : str
        The id column, never renamed.
    rename : mapping, optional
        Header -> property name, applied first (``--rename "Ticket status=hs_pipeline_stage"``).

    Raises
    ------
    ConfigurationError
        ``rename`` names a header the frame does not have, or a name that
        another column already has.
    """
    rename = dict(rename or {})
    present = [c for c in columns if isinstance(c, str)]
    for header, target in rename.items():
        if header not in present:
            close = difflib.get_close_matches(header, present, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(f"rename= names {header!r}, which is not a column{hint}")
        if target in present and target not in rename:
            raise ConfigurationError(
                f"rename= reads {header!r} as {target!r}, which is already a column"
            )
    by_name, by_label = _index(known)
    renames: dict[Hashable, str] = {}
    how: dict[Hashable, str] = {}
    for header in present:
        if header == id_column:
            continue
        if header in rename:
            renames[header], how[header] = rename[header], "rename"
            continue
        if header in known:
            continue
        names = by_name.get(_key(header), [])
        labels = by_label.get(_key(header), [])
        if len(names) == 1:
            renames[header], how[header] = names[0], "name"
        elif not names and len(labels) == 1:
            renames[header], how[header] = labels[0], "label"
    # two headers read as one name (or as a column already there): neither is guessed
    taken = Counter(renames.values()) + Counter(c for c in present if c not in renames)
    for clash in [h for h, n in renames.items() if taken[n] > 1 and how[h] != "rename"]:
        del renames[clash], how[clash]
    dropped: dict[Hashable, str] = {}
    if "label" in how.values():  # an export: its read-only columns came with it
        for header in present:
            name = renames.get(header, header)
            d = known.get(name)
            if d is not None and d.read_only and header != id_column:
                dropped[header] = name
                renames.pop(header, None)
                how.pop(header, None)
    return ColumnMap(renames, how, dropped)


def unknown_column_hint(name: str, known: Mapping[str, _Definition]) -> str:
    """What a column that names no property probably meant, or ``""``: never applied.

    Examples
    --------
    >>> from pandas_hubtickets._definitions import _parse
    >>> known = _parse([
    ...     {"name": "hs_ticket_category", "label": "Category", "type": "string"},
    ...     {"name": "hs_ticket_priority", "label": "Priority", "type": "string"},
    ... ])
    >>> unknown_column_hint("hs_ticket_categroy", known)
    "; did you mean 'hs_ticket_category'?"
    >>> unknown_column_hint("Priorty", known)
    "; did you mean 'hs_ticket_priority' (label 'Priority')?"
    >>> unknown_column_hint("Priority", known)
    ": it is the label of 'hs_ticket_priority': name the column so, or coerce=True reads \
export headers"
    """
    by_name, by_label = _index(known)
    exact = by_name.get(_key(name)) or by_label.get(_key(name)) or []
    if len(exact) == 1:
        what = "label" if _key(name) not in by_name else "name, but for case or spaces,"
        return (
            f": it is the {what} of {exact[0]!r}: name the column so, "
            "or coerce=True reads export headers"
        )
    if exact:
        return f": it is the label of {', '.join(map(repr, exact))}: name the column as one of them"
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    close = difflib.get_close_matches(_key(name), list(by_label), n=1, cutoff=0.6)
    if close and len(by_label[close[0]]) == 1:
        target = by_label[close[0]][0]
        return f"; did you mean {target!r} (label {known[target].label!r})?"
    return ""
