"""Pure KPI arithmetic: achievement, status bands, capped and renormalised weighted roll-ups."""

from __future__ import annotations

from dataclasses import dataclass

from app.compiler.definitions import Band, Bands

DEFAULT_THRESHOLDS = Bands(bands=[Band(at_least=1.0, label="green"), Band(at_least=0.9, label="amber")], otherwise="red")


def achievement(actual: float | None, target: float | None, direction: str) -> float | None:
    """actual ÷ target, or target ÷ actual for lower-is-better metrics; None when either is missing or a divisor is 0."""
    if actual is None or target is None:
        return None
    numerator, denominator = (target, actual) if direction == "lower_is_better" else (actual, target)
    return None if denominator == 0 else numerator / denominator


def label(bands: Bands, value: float | None) -> str | None:
    """The label of the first band whose floor the value reaches; `otherwise` below them all."""
    if value is None:
        return None
    return next((b.label for b in bands.bands if value >= b.at_least), bands.otherwise)


@dataclass(frozen=True)
class Share:
    """One child's part of its parent's score."""

    effective_weight: float | None  # renormalised over the children that have a value; sums to 100
    contribution: float | None  # effective_weight / 100 × min(value, cap)


def roll_up(children: list[tuple[float, float | None]], cap: float) -> tuple[float | None, list[Share]]:
    """Score of a parent from (weight, value) of its children: Σ w × min(value, cap), over the children
    with a value, their weights renormalised to 100. None when no child has a value."""
    counted = sum(w for w, v in children if v is not None)
    shares = []
    for weight, value in children:
        if value is None or counted == 0:
            shares.append(Share(None, None))
            continue
        effective = 100 * weight / counted
        shares.append(Share(effective, effective / 100 * min(value, cap)))
    if counted == 0:
        return None, shares
    return sum(s.contribution for s in shares if s.contribution is not None), shares
