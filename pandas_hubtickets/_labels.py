"""Ids to the names people read: pipeline stages, pipelines, owners, enumeration options.

Pure transformations, no network: :func:`pipelines_frame` and
:func:`owners_frame` turn HubSpot's records into the frames
:meth:`TicketsClient.pipelines` and :meth:`TicketsClient.owners` return, and
:func:`label` replaces ids in a frame with labels, as ordered categoricals
whose categories follow the order HubSpot shows (stages in pipeline order,
so a chart reads left to right through the pipeline; options in their
display order; owners by name). The labels come from a
:class:`~pandas_hubtickets.TicketsClient` (read when needed, pipelines and
owners cached per client) or a :class:`Catalogue` given explicitly.

Which values are labelled:

- ``hs_pipeline_stage``: the stage's label; where two pipelines have a stage
  of that label (``Closed`` in both, say), ``"Pipeline: Stage"`` for those;
- ``hs_pipeline``: the pipeline's label;
- ``hubspot_owner_id``: the owner's name;
- enumerations with options (from the property definitions): the option's
  label; multiple checkboxes (``A;B``) become ``"Label A; Label B"`` text.

A value with no label (a stage deleted since, an owner not in the list) is
kept as it was, appended after the known categories, and reported: in an
:class:`~pandas_hubtickets.errors.UnknownLabelsWarning` and in ``result.attrs["unlabelled"]``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import ArgumentTypeError, ConfigurationError, UnknownLabelsWarning

if TYPE_CHECKING:
    from ._client import TicketsClient

__all__ = [
    "Catalogue",
    "label",
    "owners_frame",
    "pipelines_frame",
]

STAGE = "hs_pipeline_stage"
PIPELINE = "hs_pipeline"
OWNER = "hubspot_owner_id"
VALUE_COLUMNS = ("value", "from", "to", "old", "new")
"""Columns that hold values of one property per row (tidy frames and the analyses' frames)."""
PIPELINE_COLUMN = "pipeline"
_TEXT = pd.ArrowDtype(pa.string())  # the tidy frame's text dtype
_STAGE_COLUMNS = ("pipelineId", "pipeline", "stageId", "stage")
_OWNER_COLUMNS = ("ownerId", "name")

Definitions = Sequence[Mapping[str, Any]] | pd.DataFrame


# ------------------------------------------------------------ catalogue frames
def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _order(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _catalogue_id(record: Mapping[str, Any], v1_key: str) -> Any:
    """A pipeline's or stage's id: v1's ``pipelineId``/``stageId``, else v3's ``id``."""
    found = record.get(v1_key)
    return record.get("id") if found is None else found


def pipelines_frame(results: Any) -> pd.DataFrame:
    """One row per stage from HubSpot's pipelines (``{"results": [...]}``'s list).

    Parameters
    ----------
    results : list of dict
        Pipelines as v1 gives them, ``{"pipelineId", "label", "displayOrder",
        "stages": [{"stageId", "label", "displayOrder", "metadata":
        {"ticketState"}}]}``, or as v3 and the date-versioned API give them,
        with ``id`` in place of ``pipelineId`` and ``stageId``: the same frame.

    Returns
    -------
    pandas.DataFrame
        See :meth:`TicketsClient.pipelines`.

    Raises
    ------
    TypeError, ValueError
        Not a list of pipelines with ids and stages.

    Examples
    --------
    >>> stages = pipelines_frame([{"pipelineId": "0", "label": "Support", "stages": [
    ...     {"stageId": "4", "label": "Closed", "displayOrder": 1,
    ...      "metadata": {"ticketState": "CLOSED"}},
    ...     {"stageId": "1", "label": "New", "displayOrder": 0}]}])
    >>> stages[["pipeline", "stage", "stageOrder", "closed"]].values.tolist()
    [['Support', 'New', 0, False], ['Support', 'Closed', 1, True]]
    >>> versioned = pipelines_frame([{"id": "0", "label": "Support", "stages": [
    ...     {"id": "1", "label": "New", "displayOrder": 0},
    ...     {"id": "4", "label": "Closed", "displayOrder": 1,
    ...      "metadata": {"ticketState": "CLOSED"}}]}])
    >>> versioned.equals(stages)
    True
    """
    if not isinstance(results, list):
        raise TypeError(f"expected a list of pipelines, got {type(results).__name__}")
    rows = []
    for p_index, pipeline in enumerate(results):
        if not isinstance(pipeline, Mapping) or not isinstance(pipeline.get("stages"), list):
            raise ValueError(f"pipeline {p_index} has no list of stages")
        pipeline_id = _catalogue_id(pipeline, "pipelineId")
        if pipeline_id is None:
            raise ValueError(f"pipeline {p_index} has no id (pipelineId in v1)")
        for s_index, stage in enumerate(pipeline["stages"]):
            stage_id = _catalogue_id(stage, "stageId") if isinstance(stage, Mapping) else None
            if stage_id is None:
                raise ValueError(f"stage {s_index} of pipeline {p_index} has no id (stageId in v1)")
            metadata = stage.get("metadata")
            state = metadata.get("ticketState") if isinstance(metadata, Mapping) else None
            rows.append(
                (
                    str(pipeline_id),
                    _text(pipeline.get("label")) or str(pipeline_id),
                    _order(pipeline.get("displayOrder"), p_index),
                    p_index,
                    str(stage_id),
                    _text(stage.get("label")) or str(stage_id),
                    _order(stage.get("displayOrder"), s_index),
                    s_index,
                    _text(state),
                )
            )
    columns = ["pipelineId", "pipeline", "pipelineOrder", "p", "stageId", "stage"]
    columns += ["stageOrder", "s", "ticketState"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame = frame.sort_values(["pipelineOrder", "p", "stageOrder", "s"], kind="stable")
    frame = frame.drop(columns=["p", "s"]).reset_index(drop=True)
    for name in ("pipelineId", "pipeline", "stageId", "stage", "ticketState"):
        frame[name] = frame[name].astype(_TEXT)
    for name in ("pipelineOrder", "stageOrder"):
        frame[name] = frame[name].astype("int64")
    frame["closed"] = (frame["ticketState"] == "CLOSED").fillna(False).astype(bool)
    done: pd.DataFrame = frame
    return done


def owners_frame(records: Iterable[Any]) -> pd.DataFrame:
    """One row per owner from HubSpot's v3 owner records.

    Parameters
    ----------
    records : iterable of dict
        ``{"id", "email", "firstName", "lastName", "userId", "archived", ...}``.

    Returns
    -------
    pandas.DataFrame
        See :meth:`TicketsClient.owners`.

    Raises
    ------
    TypeError, ValueError
        A record that is not a mapping with an ``id``.

    Examples
    --------
    >>> owners_frame([{"id": "7", "firstName": "Ada", "lastName": "Byron", "userId": 3},
    ...               {"id": "8", "email": "grace@example.com"}])[["ownerId", "name", "userId"]]
      ownerId               name  userId
    0       7          Ada Byron       3
    1       8  grace@example.com    <NA>
    """
    rows = []
    for i, record in enumerate(records):
        if not isinstance(record, Mapping) or record.get("id") is None:
            raise ValueError(f"owner record {i} has no id")
        first, last, email = (_text(record.get(k)) for k in ("firstName", "lastName", "email"))
        name = " ".join(part for part in (first, last) if part).strip()
        user = record.get("userId")
        if user is None:  # an archived owner's user is inactive: HubSpot nulls userId
            user = record.get("userIdIncludingInactive")
        rows.append(
            (
                str(record["id"]),
                name or email or str(record["id"]),
                first,
                last,
                email,
                user if isinstance(user, int) and not isinstance(user, bool) else None,
                bool(record.get("archived", False)),
            )
        )
    columns = ["ownerId", "name", "firstName", "lastName", "email", "userId", "archived"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for name in columns[:5]:
        frame[name] = frame[name].astype(_TEXT)
    frame["userId"] = frame["userId"].astype("Int64")
    frame["archived"] = frame["archived"].astype(bool)
    done: pd.DataFrame = frame
    return done


@dataclass(frozen=True)
class Catalogue:
    """What ids mean: pipelines and stages, owners, property definitions.

    Each part is optional; a property whose part is missing is left as it
    is. For all three from HubSpot at once (three reads, reusable):
    ``Catalogue.from_client(client)``.

    Parameters
    ----------
    pipelines : DataFrame, optional
        One row per stage, as :meth:`TicketsClient.pipelines` gives it (at
        least ``pipelineId``, ``pipeline``, ``stageId``, ``stage``, in display
        order).
    owners : DataFrame, optional
        As :meth:`TicketsClient.owners` gives it (at least ``ownerId``, ``name``).
    definitions : list of dict or DataFrame, optional
        Property definitions as :meth:`TicketsClient.properties` gives them
        (``name``, ``type``, ``fieldType``, ``options``), or a frame of them.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandas_hubtickets as ht
    >>> owners = pd.DataFrame({"ownerId": ["51"], "name": ["Ada Byron"]})
    >>> wide = pd.DataFrame({"objectId": [1, 2], "hubspot_owner_id": ["51", None]})
    >>> wide.hubtickets.label(ht.Catalogue(owners=owners))["hubspot_owner_id"].tolist()
    ['Ada Byron', nan]
    """

    pipelines: pd.DataFrame | None = None
    owners: pd.DataFrame | None = None
    definitions: Definitions | None = None

    def __post_init__(self) -> None:
        for part, needed in (("pipelines", _STAGE_COLUMNS), ("owners", _OWNER_COLUMNS)):
            frame = getattr(self, part)
            if frame is None:
                continue
            if not isinstance(frame, pd.DataFrame):
                raise ArgumentTypeError(
                    f"Catalogue({part}=...) must be a DataFrame (client.{part}()), "
                    f"got {type(frame).__name__}"
                )
            missing = [c for c in needed if c not in frame.columns]
            if missing:
                raise ConfigurationError(
                    f"Catalogue({part}=...) lacks the columns {missing}; "
                    f"it has {list(frame.columns)} (see client.{part}())"
                )

    @classmethod
    def from_client(cls, client: TicketsClient) -> Catalogue:
        """Pipelines, owners and definitions read through ``client`` (three or more requests)."""
        return cls(client.pipelines(), client.owners(), client.properties())


# ------------------------------------------------------------------ labelling
@dataclass(frozen=True)
class _Labels:
    """One property's labels: raw value -> label, the labels in category order."""

    by_key: dict[str, str]
    order: list[str]
    multiple: bool = False
    pipeline_of: dict[str, str] = field(default_factory=dict)  # stages: key -> pipeline
    pipelines: list[str] = field(default_factory=list)  # stages: pipeline labels in order


def _unique_labels(keys: Sequence[str], labels: Sequence[str], qualify: Sequence[str]) -> list[str]:
    """``labels``, each repeated one replaced by its ``qualify`` form (``"Pipeline: Stage"``)."""
    seen = pd.Series(labels, dtype=object)
    repeated = seen.duplicated(keep=False).to_numpy()
    out = [q if twice else label for label, q, twice in zip(labels, qualify, repeated, strict=True)]
    still = pd.Series(out, dtype=object).duplicated(keep=False).to_numpy()
    return [
        f"{label} ({key})" if twice else label
        for label, key, twice in zip(out, keys, still, strict=True)
    ]


def _stage_labels(stages: pd.DataFrame) -> tuple[_Labels, _Labels]:
    """Labels of ``hs_pipeline_stage`` and of ``hs_pipeline`` (a repeated stage id: the first)."""
    stages = stages.drop_duplicates("stageId")
    keys = stages["stageId"].astype(str).tolist()
    names = stages["stage"].astype(str).tolist()
    owners = stages["pipeline"].astype(str).tolist()
    qualified = [f"{p}: {s}" for p, s in zip(owners, names, strict=True)]
    labels = _unique_labels(keys, names, qualified)
    pipes = stages.drop_duplicates("pipelineId")
    p_keys = pipes["pipelineId"].astype(str).tolist()
    p_labels = _unique_labels(p_keys, pipes["pipeline"].astype(str).tolist(), p_keys)
    p_by_key = dict(zip(p_keys, p_labels, strict=True))
    stage = _Labels(
        dict(zip(keys, labels, strict=True)),
        labels,
        pipeline_of={
            k: p_by_key[p] for k, p in zip(keys, stages["pipelineId"].astype(str), strict=True)
        },
        pipelines=p_labels,
    )
    return stage, _Labels(p_by_key, p_labels)


def _owner_labels(owners: pd.DataFrame) -> _Labels:
    owners = owners.drop_duplicates("ownerId")
    keys = owners["ownerId"].astype(str).tolist()
    email = owners["email"] if "email" in owners.columns else owners["ownerId"]
    qualify = [
        f"{n} ({e})" for n, e in zip(owners["name"].astype(str), email.astype(str), strict=True)
    ]
    labels = _unique_labels(keys, owners["name"].astype(str).tolist(), qualify)
    return _Labels(dict(zip(keys, labels, strict=True)), sorted(labels, key=str.casefold))


def _definition_records(definitions: Definitions) -> list[Mapping[str, Any]]:
    if isinstance(definitions, pd.DataFrame):
        return [
            dict(zip(definitions.columns, row, strict=True))
            for row in definitions.itertuples(False)
        ]
    return list(definitions)


def _option_labels(definitions: Definitions) -> dict[str, _Labels]:
    """Labels of every enumeration with options, by property name."""
    found: dict[str, _Labels] = {}
    for d in _definition_records(definitions):
        options = d.get("options")
        if d.get("type") != "enumeration" or not isinstance(options, list) or not options:
            continue
        first: dict[str, Mapping[str, Any]] = {}  # a repeated value: its first option
        for option in options:
            if isinstance(option, Mapping) and "value" in option:
                first.setdefault(str(option["value"]), option)
        ordered = sorted(
            enumerate(first.values()),
            key=lambda item: (_order(item[1].get("displayOrder"), item[0]), item[0]),
        )
        keys = [str(o["value"]) for _, o in ordered]
        names = [str(o.get("label") or o["value"]) for _, o in ordered]
        labels = _unique_labels(
            keys, names, [f"{n} ({k})" for n, k in zip(names, keys, strict=True)]
        )
        found[str(d["name"])] = _Labels(
            dict(zip(keys, labels, strict=True)), labels, multiple=d.get("fieldType") == "checkbox"
        )
    return found


class _Lookup:
    """The labels of each property, read from a client or a catalogue when first needed."""

    def __init__(self, labels: Any) -> None:
        from ._client import TicketsClient

        if not isinstance(labels, (TicketsClient, Catalogue)):
            raise ArgumentTypeError(
                "label() takes a TicketsClient or a Catalogue (ht.Catalogue(pipelines=..., "
                f"owners=..., definitions=...)), got {type(labels).__name__}"
            )
        self._source = labels
        self._found: dict[str, _Labels | None] = {}
        self._options: dict[str, _Labels] | None = None

    def _part(self, name: str) -> Any:
        if isinstance(self._source, Catalogue):
            return getattr(self._source, name)
        return getattr(self._source, name if name != "definitions" else "properties")()

    def __call__(self, prop: str) -> _Labels | None:
        if prop not in self._found:
            if prop in (STAGE, PIPELINE):
                stages = self._part("pipelines")
                pair = (None, None) if stages is None else _stage_labels(stages)
                self._found.update({STAGE: pair[0], PIPELINE: pair[1]})
            elif prop == OWNER:
                owners = self._part("owners")
                self._found[OWNER] = None if owners is None else _owner_labels(owners)
            else:
                if self._options is None:
                    definitions = self._part("definitions")
                    self._options = {} if definitions is None else _option_labels(definitions)
                self._found[prop] = self._options.get(prop)
        return self._found[prop]


def _key(value: Any) -> str:
    """A raw value as HubSpot's text: ``51234567.0`` (a float column) is ``"51234567"``."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _texts(keys: list[str], labels: _Labels, unknown: set[str]) -> list[str]:
    """The label of each raw key (an unknown one stays as it is and goes to ``unknown``)."""
    out = []
    for key in keys:
        parts = key.split(";") if labels.multiple else [key]
        got = [labels.by_key.get(part) for part in parts]
        unknown.update(part for part, label in zip(parts, got, strict=True) if label is None)
        out.append("; ".join(label or part for part, label in zip(parts, got, strict=True)))
    return out


def _relabel(series: pd.Series, labels: _Labels, unknown: set[str]) -> pd.Series:
    """``series`` with labels as an ordered categorical (checkboxes: text); adds to ``unknown``.

    Vectorised: only the distinct values are looked up in Python.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    missing: set[str] = set()
    texts = _texts([_key(u) for u in uniques], labels, missing)
    unknown.update(missing)
    if labels.multiple:
        taken = pa.array(texts, pa.string()).take(pa.array(codes, mask=codes < 0))
        text: pd.Series = pd.Series(taken, index=series.index, name=series.name, dtype=_TEXT)
        return text
    known = set(labels.order)
    categories = labels.order + sorted(m for m in missing if m not in known)
    return _categorical(codes, texts, categories, series)


def _categorical(
    codes: np.ndarray[Any, Any], names: Sequence[str | None], categories: list[str], like: pd.Series
) -> pd.Series:
    """An ordered categorical: row ``i`` is ``names[codes[i]]`` (NA for code -1 or a None name)."""
    positions = np.append(pd.Index(categories).get_indexer(list(names)), -1).astype(np.intp)
    dtype = pd.CategoricalDtype(categories, ordered=True)
    values = pd.Categorical.from_codes(positions[codes], dtype=dtype)  # code -1 takes the last
    out: pd.Series = pd.Series(values, index=like.index, name=like.name)
    return out


def _pipeline_column(stages: pd.Series, labels: _Labels) -> pd.Series:
    """The pipeline of each stage in ``stages`` (raw ids; NA elsewhere), an ordered categorical."""
    codes, uniques = pd.factorize(stages, use_na_sentinel=True)
    names = [labels.pipeline_of.get(_key(u)) for u in uniques]
    return _categorical(codes, names, labels.pipelines, stages.rename(PIPELINE_COLUMN))


def _report(frame: pd.DataFrame, unlabelled: dict[str, list[str]]) -> pd.DataFrame:
    frame.attrs["unlabelled"] = unlabelled
    if unlabelled:
        listed = "; ".join(
            f"{prop}: {', '.join(repr(v) for v in values[:10])}"
            + (f" and {len(values) - 10} more" if len(values) > 10 else "")
            for prop, values in unlabelled.items()
        )
        warnings.warn(
            f"no label for some values, kept as they were: {listed}",
            UnknownLabelsWarning,
            stacklevel=4,  # the caller of df.hubtickets.label
        )
    return frame


def _insert_after(frame: pd.DataFrame, after: str, name: str, column: pd.Series) -> None:
    if name not in frame.columns:
        frame.insert(list(frame.columns).index(after) + 1, name, column)


def _label_values(
    frame: pd.DataFrame, columns: list[str], prop: str | None, lookup: _Lookup
) -> dict[str, list[str]]:
    """Label the value columns in place (of one property, or of the ``property`` column's)."""
    props: pd.Series | None = None
    if prop is None:
        props = frame["property"]
        present = [str(p) for p in pd.unique(props.dropna())]
    else:
        present = [prop]
    if len(present) == 1:  # one property throughout: ordered categoricals
        labels = lookup(present[0])
        missing: set[str] = set()
        if labels is not None:
            if present[0] == STAGE and "value" in columns:
                stages = _pipeline_column(frame["value"], labels)
                _insert_after(frame, "value", PIPELINE_COLUMN, stages)
            for column in columns:
                frame[column] = _relabel(frame[column], labels, missing)
        return {present[0]: sorted(missing)} if missing else {}
    assert props is not None
    unlabelled: dict[str, set[str]] = {}
    labelled = {p: labels for p in present if (labels := lookup(p)) is not None}
    in_scope = props.isin(list(labelled)).to_numpy()
    original_values = frame["value"] if "value" in columns else None
    prop_codes, prop_names = pd.factorize(props[in_scope])
    for column in columns:  # several properties: each row's value becomes its label, as text
        original = frame[column]
        value_codes, values = pd.factorize(original[in_scope], use_na_sentinel=True)
        width = len(values) + 1
        pair_codes, pairs = pd.factorize(prop_codes.astype(np.int64) * width + value_codes + 1)
        texts: list[str | None] = []
        for pair in pairs:  # each distinct (property, value) once
            prop, value = str(prop_names[pair // width]), pair % width - 1
            if value < 0:
                texts.append(None)
                continue
            missing = unlabelled.setdefault(prop, set())
            texts.append(_texts([_key(values[value])], labelled[prop], missing)[0])
        where = np.full(len(frame), -1, dtype=np.intp)
        where[in_scope] = pair_codes
        relabelled = pa.array(texts, pa.string()).take(pa.array(where, mask=where < 0))
        before = pa.array(original, from_pandas=True)
        if not pa.types.is_string(before.type):
            before = pc.cast(before, pa.string())
        merged = pc.if_else(pa.array(in_scope), relabelled, before)
        frame[column] = pd.Series(merged, index=frame.index, name=column, dtype=_TEXT)
    if STAGE in labelled and original_values is not None:
        stages = original_values.where((props == STAGE).to_numpy())
        _insert_after(frame, "value", PIPELINE_COLUMN, _pipeline_column(stages, labelled[STAGE]))
    return {p: sorted(v) for p, v in unlabelled.items() if v}


def label(
    frame: pd.DataFrame, labels: TicketsClient | Catalogue, *, property: str | None = None
) -> pd.DataFrame:
    """Replace ids with labels: see :meth:`HubTicketsAccessor.label`."""
    lookup = _Lookup(labels)
    out = frame.copy()
    columns = [c for c in VALUE_COLUMNS if c in frame.columns]
    has_property = "property" in frame.columns
    if columns and (has_property or property is not None):
        if has_property and property is not None:
            raise ConfigurationError(
                "label(property=...) is for frames without a 'property' column; "
                "this one has one, which says the property of each row"
            )
        return _report(out, _label_values(out, columns, None if has_property else property, lookup))
    if columns and property is None and frame.attrs.get("property") is not None:
        return _report(out, _label_values(out, columns, str(frame.attrs["property"]), lookup))
    if columns:
        raise ConfigurationError(
            f"the frame's columns {columns} hold values of one property, but it has no "
            "'property' column: say which, e.g. label(client, property='hs_pipeline_stage')"
        )
    unlabelled: dict[str, list[str]] = {}  # a wide frame: one column per property
    for name in frame.columns:
        labels_of = lookup(str(name)) if isinstance(name, str) else None
        if labels_of is not None:
            missing: set[str] = set()
            out[name] = _relabel(frame[name], labels_of, missing)
            if missing:
                unlabelled[str(name)] = sorted(missing)
    return _report(out, unlabelled)
