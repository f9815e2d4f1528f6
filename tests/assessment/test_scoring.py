"""The pure arithmetic of the rule, including property-based tests of the ranking."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from assessment.scoring import (
    Counts,
    RankEntry,
    Weights,
    base_score,
    final_score,
    format_score,
    good_and_poor,
    indicators,
    rank,
    round_half_up,
)

DEFAULT = Weights(Decimal("0.10"), Decimal("0.20"), Decimal("0.35"), Decimal("0.35"), Decimal("0.9"))


def test_worked_example_is_exactly_89_3():
    # given
    counts = Counts(sign_num=18, sign_den=20, close_num=18, close_den=20, resolved_num=13, satisfied=11, basic=3,
                    unsatisfied=1)
    # when
    ind = indicators(counts, DEFAULT)
    base = base_score(counts, DEFAULT)
    # then
    assert ind["satisfied"] == Fraction(137, 150)
    assert base == Fraction(893, 10)
    assert format_score(final_score(base)) == "89.3"


def test_zero_denominator_counts_as_one():
    # when
    base = base_score(Counts(0, 0, 0, 0, 0, 0, 0, 0), DEFAULT)
    # then
    assert base == 100


def test_half_up_rounding():
    # then: a float would print 70.62 and 2.675 as 2.67
    assert round_half_up(Fraction(70625, 1000)) == Decimal("70.63")
    assert round_half_up(Fraction(2675, 1000)) == Decimal("2.68")
    assert round_half_up(Fraction(26749, 10000)) == Decimal("2.67")
    assert round_half_up(Fraction(-2675, 1000)) == Decimal("-2.68")
    assert round_half_up(Fraction(1, 3)) == Decimal("0.33")
    assert round_half_up(Fraction(2, 3)) == Decimal("0.67")


def test_clamping_and_deductions():
    assert final_score(Fraction(100), adjustments=Decimal("5")) == Decimal("100.00")
    assert final_score(Fraction(3), deduction=Decimal("5")) == Decimal("0.00")
    assert final_score(Fraction(100), deduction=Decimal("5"), adjustments=Decimal("-0.5")) == Decimal("94.50")


def test_printing_has_no_trailing_zeros():
    assert [format_score(Decimal(x)) for x in ("100.00", "99.26", "98.40", "87.20", "0.00", "90.05")] == [
        "100", "99.26", "98.4", "87.2", "0", "90.05"]


def test_competition_ranking_and_listing_order():
    # given: three at 100 (tickets 5, 9, 5; orders 3, 9, 1), one at 97.67
    entries = [RankEntry("a", Decimal("100"), 5, 3), RankEntry("b", Decimal("97.67"), 50, 0),
               RankEntry("c", Decimal("100"), 9, 9), RankEntry("d", Decimal("100"), 5, 1)]
    # when
    ranked = rank(entries)
    # then
    assert [(r.key, r.rank, r.position) for r in ranked] == [("c", 1, 1), ("d", 1, 2), ("a", 1, 3), ("b", 4, 4)]
    assert good_and_poor(ranked) == ("c", "b")


def test_a_group_of_one_has_no_poor_unit():
    assert good_and_poor(rank([RankEntry(1, Decimal(90), 9, 0)])) == (1, None)
    assert good_and_poor([]) == (None, None)


scores = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
entries_strategy = st.lists(
    st.tuples(scores, st.integers(min_value=9, max_value=500), st.integers(min_value=0, max_value=30)),
    min_size=1, max_size=30,
).map(lambda rows: [RankEntry(i, s, n, o) for i, (s, n, o) in enumerate(rows)])


@given(entries_strategy)
def test_ranking_invariants(entries):
    # when
    ranked = rank(entries)
    by_key = {e.key: e for e in entries}
    # then: a permutation listed 1..n, scores non-increasing along the listing
    assert sorted(r.position for r in ranked) == list(range(1, len(entries) + 1))
    assert [r.position for r in ranked] == list(range(1, len(entries) + 1))
    listed = [by_key[r.key] for r in ranked]
    assert all(a.score >= b.score for a, b in zip(listed, listed[1:], strict=False))
    # rank = 1 + number of strictly higher scores (competition ranking)
    for r in ranked:
        assert r.rank == 1 + sum(1 for e in entries if e.score > by_key[r.key].score)
    # equal scores share a rank; among them more tickets come first, then the configured order
    for a, b in zip(listed, listed[1:], strict=False):
        if a.score == b.score:
            assert (-a.tickets, a.order) <= (-b.tickets, b.order)
    # the first listed has rank 1; good is the first, poor the last
    assert ranked[0].rank == 1
    good, poor = good_and_poor(ranked)
    assert good == ranked[0].key
    assert poor == (ranked[-1].key if len(ranked) > 1 else None)


@given(entries_strategy, st.randoms())
def test_ranking_does_not_depend_on_input_order(entries, random):
    # given
    shuffled = list(entries)
    random.shuffle(shuffled)
    # then
    assert rank(entries) == rank(shuffled)


@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40),
       st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_score_stays_within_0_and_100(a, b, c, d, e, f, g, h):
    # given: numerators never exceed their denominators
    counts = Counts(min(a, b), b, min(c, d), d, min(e, f + g + h), f, g, h)
    # when
    base = base_score(counts, DEFAULT)
    # then
    assert 0 <= base <= 100
    assert Decimal(0) <= final_score(base) <= Decimal(100)
