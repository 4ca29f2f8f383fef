"""Small-cell suppression: what an aggregate reader is shown, and that no hidden cell can be
worked out from the figures published beside it (property-based, over random tables)."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from atensi.core.disclosure import Disclosure, Shown, possible_values, round_count, show, show_row

AGGREGATE = Disclosure.AGGREGATE


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, 0), (1, None), (4, None), (5, 5), (7, 5), (8, 10), (12, 10), (13, 15), (1002, 1000), (1003, 1005)],
)
def test_aggregate_readers_see_small_cells_hidden_and_counts_rounded(n, shown):
    assert show(n, AGGREGATE).value == shown


def test_exact_readers_see_every_count_as_it_is():
    assert [show(n, Disclosure.EXACT).value for n in (0, 1, 4, 7, 1003)] == [0, 1, 4, 7, 1003]


def test_a_shown_count_reads_as_the_locale_writes_numbers():
    with translation.override("id"):
        assert str(show(3, AGGREGATE)) == "<5"
        assert str(show(12_347, AGGREGATE)) == "12.345"
        assert str(Shown(1234)) == "1.234"
    assert show(3, AGGREGATE).for_export() == "<5"
    assert show(12, AGGREGATE).for_export() == 10


def test_a_negative_count_is_a_programming_error():
    with pytest.raises(ValueError):
        show(-1, AGGREGATE)


@given(st.integers(min_value=0, max_value=100_000))
def test_a_count_is_among_the_values_its_shown_figure_allows(n):
    shown = show(n, AGGREGATE)
    assert n in possible_values(shown)
    assert shown.value is None or abs(shown.value - n) <= 2
    assert round_count(n) % 5 == 0


@settings(max_examples=2000)
@given(st.lists(st.one_of(st.integers(0, 6), st.integers(0, 300)), min_size=1, max_size=12), st.data())
def test_no_hidden_cell_can_be_recovered_from_its_table_and_total(counts, data):
    """Whatever a hidden cell really is (1 to 4), the table and its total look the same."""
    shown = show_row(counts, AGGREGATE)
    for i, n in enumerate(counts):
        if shown.cells[i].hidden:
            other = data.draw(st.integers(1, 4).filter(lambda v, n=n: v != n))
            assert show_row([*counts[:i], other, *counts[i + 1 :]], AGGREGATE) == shown


@settings(max_examples=1000)
@given(st.lists(st.integers(0, 5000), min_size=1, max_size=40))
def test_an_aggregate_total_stays_near_the_true_one_and_the_rows_add_up(counts):
    row = show_row(counts, AGGREGATE)
    assert row.total.value is not None and row.total.value % 5 == 0
    assert abs(row.total.value - sum(counts)) <= 2 * len(counts) + 2
    if not any(c.hidden for c in row.cells):
        assert row.total.value == round_count(sum(c.value or 0 for c in row.cells))


def test_the_total_of_a_small_table():
    row = show_row([1, 1, 5], AGGREGATE)  # the true total rounded (5) would give both 1s away
    assert [str(c) for c in row.cells] == ["<5", "<5", "5"]
    assert row.total.value == 10
    assert show_row([1, 1, 5], Disclosure.EXACT).total.value == 7
    assert show_row([0, 0], AGGREGATE).total.value == 0
