"""How a key finding writes a number, for tests that check every number a finding quotes is a
figure of the section it sums up (02 and 03; 01's test predates this module)."""

from __future__ import annotations

import re

#: a number as a sentence writes it (1,280 / 0.65 / 9.4% / 51), not the digits of a word (T01)
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?%?")
#: the same with its sign (-10.7, +7.3), where a sentence writes changes
SIGNED_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?")


def count(v: float) -> str:
    return f"{v:,.0f}"


def whole(v: float) -> str:
    return f"{v:.0f}"


def ratio(v: float) -> str:
    return f"{v:.2f}"


def level(v: float) -> str:
    """A confidence level: 0.95 -> '95%'."""
    return f"{100 * v:.0f}%"


def one_place(v: float) -> str:
    return f"{v:.1f}"


def days_change(v: float) -> str:
    return f"{v:+.1f}"


def size(v: float) -> str:
    """A shift's size: its direction is in words ('higher than before')."""
    return f"{abs(v):.1f}"
