"""The practice-change log each profile writes, and the DP-start intensity it plants.

Names and effects as docs/planted_effects.md; `intensity` is the monthly rate of DP starts that
the generator draws from and that evalkit's ITS should recover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalkit.synth import facts as F


@dataclass(frozen=True)
class Change:
    """A logged practice change and the effects planted for it."""

    change_id: str
    date: str
    name: str
    description: str
    target: str  # "all", a broad group, or "language:<name>"
    level: float = 1.0  # rate ratio of DP starts at the change
    slope: float = 1.0  # rate ratio per month after the change
    teams: tuple[str, ...] = ()
    dose: float | None = None
    survey: dict[str, float] = field(default_factory=dict)  # latent shifts per measure

    @property
    def month(self) -> int:
        """Month index (0 = April 2021) of the change."""
        return int((np.datetime64(self.date, "M") - np.datetime64("2021-04", "M")).astype(int))


_TRAINED = ("T01", "T02", "T03", "T04")
_PLACEBO = Change("C5", "2024-10-01", "Placebo (synthetic test entry, not a real change)",
                  "Synthetic placebo with no planted effect, for testing false positives.",
                  "White")
CHANGES: dict[str, tuple[Change, ...]] = {
    "leicester": (
        Change("C1", "2022-04-01", "DP training for existing staff",
               "Direct Payments training for existing social work staff, rolled out by team "
               "(date synthetic).", "all", level=1.20, teams=_TRAINED, dose=60),
        Change("C2", "2023-01-01", "Translatable online DP guidance",
               "Online Direct Payments guidance that can be translated (date synthetic).",
               "Asian", level=1.25, slope=1.01,
               survey={"info_ease": 0.5, "satisfaction": 0.3, "ascot": 0.15, "control": 0.15}),
        Change("C3", "2023-04-01", "PA register",
               "Register of personal assistants collated from agencies, recording languages, "
               "from 2023.", "language:Somali", level=1.5),
        Change("C4", "2024-04-01", "New DP support service",
               "A new Direct Payments support service (date synthetic).", "all", level=1.10),
        _PLACEBO,
    ),
    "england": (
        Change("C1", "2022-04-01", "DP training for existing staff (synthetic)",
               "Synthetic national test log: training rolled out by team.", "all", level=1.20,
               teams=_TRAINED, dose=60),
        Change("C2", "2023-01-01", "Translated and audio DP information (synthetic)",
               "Synthetic national test log.", "Asian", level=1.25, slope=1.01,
               survey={"info_ease": 0.5, "satisfaction": 0.3, "ascot": 0.15, "control": 0.15}),
        Change("C3", "2023-04-01", "Talking leaflets for an oral community (synthetic)",
               "Synthetic national test log: audio leaflets in Somali.", "language:Somali",
               level=1.5),
        Change("C4", "2024-04-01", "DP support service (synthetic)",
               "Synthetic national test log.", "all", level=1.10),
        _PLACEBO,
    ),
}


def intensity(changes: tuple[Change, ...], applies: np.ndarray) -> np.ndarray:
    """Monthly DP-start intensity for one membership pattern (docs/planted_effects.md)."""
    t = np.arange(F.N_MONTHS)
    month = (t + 3) % 12  # calendar month - 1 (April 2021 = index 0)
    log_lam = (F.TREND * t + F.SEASON[0] * np.cos(2 * np.pi * month / 12)
               + F.SEASON[1] * np.sin(2 * np.pi * month / 12))
    for ch, on in zip(changes, applies, strict=True):
        if on:
            post = t >= ch.month
            log_lam += post * (np.log(ch.level) + np.log(ch.slope) * (t - ch.month))
    return np.exp(log_lam)


def is_placebo(ch: Change) -> bool:
    """A change with no planted effect (level, slope and survey shifts all null)."""
    return ch.level == 1.0 and ch.slope == 1.0 and not ch.survey

