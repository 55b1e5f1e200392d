"""Readers cost time in proportion to the file: size ladders that count work instead of timing it.

Each reader runs at a size and at four times that size under a line counter (every Python line
executed, stdlib included): a linear reader does about four times the work, a quadratic one
sixteen. Work done in C (copying a growing string) is invisible to the counter, so the
continuation-line cases also read one very long field under the hang guard the hostile suite
uses: a reader that copies the field per line needs minutes for it, a linear one well under a
second.
"""

from __future__ import annotations

import sys

import pytest

from reviewkit.formats import read_csv, read_medline, read_proquest, read_refer, read_ris, read_wos
from tests.hostile_strategies import time_limit


def _lines_executed(read, text: str) -> int:
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        read(text)
    finally:
        sys.settrace(None)
    return count


def _ris(lines: int) -> str:
    return ("TY  - JOUR\nTI  - A long abstract\nAB  - start\n"
            + "   continued words of the abstract\n" * lines + "ER  - \n")


def _medline(lines: int) -> str:
    return "PMID- 1\nTI  - A long abstract\nAB  - start\n" + \
        "      continued words of the abstract\n" * lines


def _wos(lines: int) -> str:
    return ("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI A long abstract\nAB start\n"
            + "   continued words of the abstract\n" * lines + "ER\nEF\n")


def _refer(lines: int) -> str:
    return "%0 Journal Article\n%T A long abstract\n%X start\n" + \
        "continued words of the abstract\n" * lines


def _proquest(lines: int) -> str:
    return ("Document 1 of 1\n\nA long abstract\n\nAbstract: start\n"
            + "continued words of the abstract\n" * lines + "\n" + "_" * 60 + "\n")


def _wide_csv(columns: int) -> str:
    return "Title," + ",".join(["a"] * columns) + "\nA study," + ",".join(["x"] * columns) + "\n"


@pytest.mark.parametrize(("read", "make", "size"), [
    (read_ris, _ris, 2_000),
    (read_medline, _medline, 2_000),
    (read_csv, _wide_csv, 300),
    (read_wos, _wos, 2_000),
    (read_refer, _refer, 2_000),
    (read_proquest, _proquest, 2_000),
], ids=["ris continuation lines", "medline continuation lines", "csv same-named columns",
        "wos continuation lines", "refer continuation lines", "proquest continuation lines"])
def test_work_grows_linearly_with_the_input(read, make, size):
    with time_limit(120):
        small = _lines_executed(read, make(size))
        large = _lines_executed(read, make(4 * size))
    assert large / small < 5, (small, large)  # linear: about 4; quadratic: about 16


@pytest.mark.parametrize(("read", "make"), [(read_ris, _ris), (read_medline, _medline),
                                           (read_wos, _wos), (read_refer, _refer),
                                           (read_proquest, _proquest)],
                         ids=["ris", "medline", "wos", "refer", "proquest"])
def test_one_field_of_800k_continuation_lines_reads_at_once(read, make):
    text = make(800_000)  # 30 MB in one abstract
    with time_limit(30):  # a guard against a hang, not a speed target: linear takes < 1 s
        (record,) = read(text)
    assert len(record.abstract) > 800_000 * 30


def test_two_thousand_columns_of_the_same_name_keep_their_values():
    (record,) = read_csv(_wide_csv(2_000))
    assert len(record.extra) == 2_000
    assert record.extra["a (2000)"] == ["x"]
