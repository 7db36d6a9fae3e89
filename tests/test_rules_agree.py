"""The pre-check and the emulator apply one rule set: same values, same verdict, same code.

The library checks a column at a time with pyarrow (``encode`` then
``definitions.check_values``); the emulator checks one value at a time in its own
code (``testing.schema.check_value``). Both get the same generated property
definition (the emulator's ``PropertyDef``, and the library its v2 JSON) and the
same values, many of them adversarial: exponents, signs, spaces and invisible
characters, other scripts' digits, huge numbers, labels instead of values,
``;`` lists, text over the length limit.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pandas_hubtickets._definitions import check_values
from pandas_hubtickets._encode import encode_column
from pandas_hubtickets._payload import ProblemList, encode_frame
from pandas_hubtickets.testing.schema import PropertyDef, check_value

DAY_MS = 86_400_000
AGREE = settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

OPTION_TEXT = st.text(alphabet="ABCab_ 1é", min_size=1, max_size=6).filter(lambda t: t == t.strip())


KINDS = ["string", "number", "date", "datetime", "enumeration", "bool"]


@st.composite
def definitions(draw: st.DrawFn, kind: str) -> PropertyDef:
    field_type = {"string": "text", "number": "number", "date": "date", "datetime": "date"}.get(
        kind, "select"
    )
    options: tuple[tuple[str, str], ...] = ()
    external = False
    if kind == "enumeration":
        field_type = draw(st.sampled_from(["select", "radio", "checkbox"]))
        count = draw(st.sampled_from([0, 1, 2, 4]))  # none at all is a case of its own
        values = draw(st.lists(OPTION_TEXT, min_size=count, max_size=count, unique=True))
        labels = draw(st.lists(OPTION_TEXT, min_size=len(values), max_size=len(values)))
        options = tuple(zip(values, labels, strict=True))
        external = draw(st.booleans())
    elif kind == "bool":
        field_type = "booleancheckbox"
        options = (("true", "Yes"), ("false", "No"))
    return PropertyDef("prop", "Prop", kind, field_type, options, external_options=external)


# every character either rule set counts as space or invisible, and some it does not
EDGES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + (
    "\u180e\u200b\u200c\u200d\u2060\ufeff" + "\u00ad\u200e\u2061\u034f\x00\x7f"
)
ADVERSARIAL = "0123456789-+.eE ;,_xyTtrufalsLOWHIGH\u0661\uff11:" + EDGES
NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False).map(repr),
    st.floats(allow_nan=False).map(lambda x: f"{x:f}"),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.integers(min_value=-(2**64), max_value=2**64).map(lambda n: str(n * DAY_MS)),
    st.sampled_from(["-0", "007", "1.", ".5", "+1", "1e-7", "1E+2", "9" * 400, "1_000"]),
    st.integers(-(2**63) - 2, -(2**63) + 2).map(str),
    st.integers(2**63 - 2, 2**63 + 2).map(str),
)


def value_text(d: PropertyDef) -> st.SearchStrategy[str]:
    option = st.sampled_from([v for o in d.options for v in o] or ["NONE"])
    as_written = st.one_of(
        option, option.map(str.lower), option.map(str.upper), option.map(str.capitalize)
    )
    return st.one_of(
        st.text(alphabet=ADVERSARIAL, max_size=12),
        NUMBER_TEXT,
        as_written,
        st.lists(as_written, min_size=1, max_size=3).map(";".join),
        st.lists(as_written, min_size=1, max_size=3).map("; ".join),
        st.tuples(st.sampled_from(["", *EDGES]), as_written, st.sampled_from(["", *EDGES])).map(
            "".join
        ),
        st.sampled_from(["", "true", "false", "True", "yes", "1", "1" * 65_537, "x" * 65_536]),
    )


def library_codes(d: PropertyDef, values: list[str]) -> list[str | None]:
    """Per value: the code of the library's pre-check (encoder, then definitions), or None."""
    frame = pd.DataFrame({"objectId": range(1, len(values) + 1), d.name: values}, dtype=object)
    found = ProblemList(frame.index)
    encoded = encode_frame(frame, problems=found)
    found.extend(check_values(encoded, pd.DataFrame([d.to_v2(0)])))
    codes: list[list[str]] = [[] for _ in values]
    for problem in found.items:
        assert problem.rows is not None, problem  # no whole-column verdict for a valid property
        for row in problem.rows:
            codes[row].append(problem.code)
    assert all(len(c) <= 1 for c in codes), codes  # one fault per value: the first rule broken
    return [c[0] if c else None for c in codes]


def emulator_codes(d: PropertyDef, values: list[str]) -> list[str | None]:
    return [None if (p := check_value(d, v)) is None else p.code for v in values]


@pytest.mark.parametrize("kind", KINDS)
@AGREE
@given(data=st.data())
def test_pre_check_and_emulator_agree_on_every_value(kind: str, data: st.DataObject) -> None:
    d = data.draw(definitions(kind), label="definition")
    values = data.draw(st.lists(value_text(d), min_size=1, max_size=12), label="values")

    assert library_codes(d, values) == emulator_codes(d, values)


VALID = {"string": "x", "number": "12", "date": "0", "datetime": "5", "bool": "true"}
CHOICES = (("LOW", "Low"), ("HIGH", "High"))


@pytest.mark.parametrize(
    "d",
    [
        *(PropertyDef("prop", "Prop", kind, "text") for kind in VALID),
        PropertyDef("prop", "Prop", "enumeration", "select", CHOICES),
        PropertyDef("prop", "Prop", "enumeration", "checkbox", CHOICES),
        PropertyDef("prop", "Prop", "enumeration", "checkbox", external_options=True),
    ],
    ids=lambda d: f"{d.type}-{d.field_type}-{d.external_options}",
)
def test_every_edge_character_gets_the_same_verdict(d: PropertyDef) -> None:
    """Too many characters for a sampled test to meet them all: each, at each place."""
    valid = "LOW;HIGH" if d.multiple else VALID.get(d.type, "LOW")
    first, _, last = valid.partition(";")
    places = [f"{c}{valid}" for c in EDGES] + [f"{valid}{c}" for c in EDGES] + [c for c in EDGES]
    if d.multiple:
        places += [f"{first}{c};{last}" for c in EDGES] + [f"{first};{c}{last}" for c in EDGES]
    assert library_codes(d, places) == emulator_codes(d, places)


NUMBER = PropertyDef("amount", "Amount", "number", "number")


@AGREE
@given(
    st.one_of(
        st.lists(st.floats(width=16, allow_nan=False, allow_infinity=False), min_size=1).map(
            lambda xs: pd.Series(xs, dtype="float16")
        ),
        st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1).map(
            lambda xs: pd.Series(xs, dtype="float32")
        ),
        st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1).map(pd.Series),
        st.lists(st.decimals(allow_nan=False, allow_infinity=False), min_size=1).map(
            lambda xs: pd.Series(xs, dtype=object)
        ),
        st.lists(st.integers(-(2**80), 2**80), min_size=1).map(
            lambda xs: pd.Series(xs, dtype=object)
        ),
    )
)
def test_every_encoded_number_is_accepted_by_both(numbers: pd.Series) -> None:
    encoded, problems = encode_column(numbers)
    texts = encoded.to_pylist()
    too_long = {int(r) for pos, code, _ in problems if code == "TOO_LONG" for r in pos}
    assert {code for _, code, _ in problems} <= {"TOO_LONG"}  # a huge Decimal, say
    kept = [t for i, t in enumerate(texts) if i not in too_long]
    assert library_codes(NUMBER, kept) == emulator_codes(NUMBER, kept) == [None] * len(kept)


def test_the_adversarial_values_are_reached() -> None:
    """The agreement test is only as good as its values: the tricky ones must be refused."""
    tricky = ["1e-7", "+1", "1.", ".5", "\u0661", " 1", "\u200b1", "1" * 65_537, "9" * 400]
    assert emulator_codes(NUMBER, tricky) == [
        *["INVALID_INTEGER"] * 5,
        *["LEADING_TRAILING_WHITESPACE"] * 2,
        "TOO_LONG",
        None,
    ]
    assert library_codes(NUMBER, tricky) == emulator_codes(NUMBER, tricky)
