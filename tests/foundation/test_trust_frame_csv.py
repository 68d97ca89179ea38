"""CSV export read by a spreadsheet whatever its delimiter: ',' (as written), ';' (a ';' locale opening
the same file) or tab (a paste). No cell may start with a formula character, numbers excepted."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from ui.kit.widgets import to_csv_bytes

FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
HOSTILE = [
    "api;=cmd|' /C calc'!A0",  # the cell: in a ';' locale the part after ';' is a cell of its own
    'x\t=HYPERLINK("http://evil")',
    "a,=b",
    "p;+1+1",
    "q;-2+3",
    "r;@SUM(A1)",
    "s;\t=1",
    "t;;=1",
    "=lead",
    "plain;text, and more",
]


def _fields(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))


def _frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame(
        {
            "first": HOSTILE,
            "n": [-1.5 * i for i in range(n)],
            "second": list(reversed(HOSTILE)),
            "json": [["=x;=y", -2], {"k": "v;=w"}, *([[1, -2]] * (n - 2))],
            "h;=eader": range(n),
        }
    )


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_no_cell_starts_a_formula_whatever_the_delimiter(delimiter: str) -> None:
    for row in _fields(to_csv_bytes(_frame()), delimiter):
        for cell in row:
            assert not (cell.startswith(FORMULA) and not NUMBER.match(cell)), (delimiter, row, cell)


def test_the_file_still_reads_back_cell_for_cell_with_its_own_delimiter() -> None:
    rows = _fields(to_csv_bytes(_frame()), ",")
    assert rows[0] == ["first", "n", "second", "json", "h;'=eader"]
    body = rows[1:]
    assert len(body) == len(HOSTILE) and all(len(r) == 5 for r in body)
    assert body[0][0] == "api;'=cmd|' /C calc'!A0"  # the mark is visible, the rest unchanged
    assert body[2][0] == "a,=b"  # quoted by the writer: one cell with ',' and ';' readers alike
    assert body[8][0] == "'=lead"
    assert body[9][0] == "plain;text, and more"
    assert body[5][3] == "[1, -2]"  # JSON with numbers after commas is left as it is
    assert [float(r[1]) for r in body] == [-1.5 * i for i in range(len(HOSTILE))]
