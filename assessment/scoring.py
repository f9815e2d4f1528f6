"""The arithmetic of the rule, pure and exact: fractions in, a Decimal score out, then ranking.

No database here, so the rule can be tested exhaustively (and property-tested) on its own. Every
ratio is a ``fractions.Fraction``; weights come in as ``Decimal`` and are converted exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

HUNDRED = Fraction(100)


@dataclass(frozen=True)
class Weights:
    sign: Decimal
    close: Decimal
    resolved: Decimal
    satisfied: Decimal
    basic: Decimal  # how much one 基本满意 counts as 满意

    @classmethod
    def from_rule(cls, rule) -> Weights:
        return cls(rule.weight_sign, rule.weight_close, rule.weight_resolved, rule.weight_satisfied,
                   rule.basic_weight)


@dataclass(frozen=True)
class Counts:
    """The numerators and denominators of one unit's month."""

    sign_num: int
    sign_den: int
    close_num: int
    close_den: int
    resolved_num: int
    satisfied: int
    basic: int
    unsatisfied: int

    @property
    def callbacks(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied


def ratio(num, den) -> Fraction:
    """An indicator: num/den exactly; a denominator of 0 counts as 1 (nothing to judge)."""
    if den == 0:
        return Fraction(1)
    return Fraction(num) / Fraction(den)


def indicators(counts: Counts, weights: Weights) -> dict[str, Fraction]:
    basic = Fraction(weights.basic)
    return {
        "sign_on_time": ratio(counts.sign_num, counts.sign_den),
        "close_on_time": ratio(counts.close_num, counts.close_den),
        "resolved": ratio(counts.resolved_num, counts.callbacks),
        "satisfied": ratio(counts.satisfied + basic * counts.basic, counts.callbacks),
    }


def base_score(counts: Counts, weights: Weights) -> Fraction:
    """100 × the weighted sum of the four indicators, exact."""
    ind = indicators(counts, weights)
    return HUNDRED * (
        Fraction(weights.sign) * ind["sign_on_time"]
        + Fraction(weights.close) * ind["close_on_time"]
        + Fraction(weights.resolved) * ind["resolved"]
        + Fraction(weights.satisfied) * ind["satisfied"]
    )


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact fraction once, half away from zero, to ``places`` decimals."""
    scale = 10**places
    scaled = value * scale
    sign = -1 if scaled < 0 else 1
    integer = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    return (Decimal(sign * integer) / Decimal(scale)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def final_score(base: Fraction, *, deduction: Decimal | Fraction = 0, adjustments: Decimal | Fraction = 0) -> Decimal:
    """base − deduction + adjustments, clamped to [0, 100], rounded once half-up to 2 decimals."""
    total = base - Fraction(deduction) + Fraction(adjustments)
    total = min(max(total, Fraction(0)), HUNDRED)
    return round_half_up(total, 2)


def format_score(value: Decimal | None) -> str:
    """Print a score without trailing zeros: ``100``, ``99.26``, ``98.4``, ``87.2``."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def format_fraction(value: Fraction, places: int = 2) -> str:
    """A ratio as a percentage string with ``places`` decimals, half-up: ``90.00``."""
    return f"{round_half_up(value * 100, places):f}"


@dataclass(frozen=True)
class RankEntry:
    key: object  # the unit id (or anything hashable)
    score: Decimal
    tickets: int
    order: int


@dataclass(frozen=True)
class Ranked:
    key: object
    rank: int  # competition rank: 1, 1, 1, 4
    position: int  # 1-based listing order


def rank(entries: Iterable[RankEntry]) -> list[Ranked]:
    """Competition ranking by score (highest first); equal scores share a rank and the next skips.
    Listing order among equal scores: more tickets first, then the configured order, then the key."""
    listed = sorted(entries, key=lambda e: (-e.score, -e.tickets, e.order, _sortable(e.key)))
    out: list[Ranked] = []
    previous: Decimal | None = None
    current_rank = 0
    for position, entry in enumerate(listed, start=1):
        if previous is None or entry.score != previous:
            current_rank = position
            previous = entry.score
        out.append(Ranked(entry.key, current_rank, position))
    return out


def good_and_poor(ranked: Sequence[Ranked]) -> tuple[object | None, object | None]:
    """办理较好 is the first listed unit of a group, 办理较差 the last; a group of one unit has a good
    unit and no poor one (one unit cannot be both)."""
    if not ranked:
        return None, None
    ordered = sorted(ranked, key=lambda r: r.position)
    good = ordered[0].key
    poor = ordered[-1].key if len(ordered) > 1 else None
    return good, poor


def _sortable(key):
    return (0, key) if isinstance(key, int) else (1, str(key))
