"""Comparators: each council's headline figures beside England's and its region's, from the
national data of a run (worked out once, `evalkit.run.national`) or a published England file.
`analyse` picks the council's rows, `publish` protects them and compares, `show_comparators`
shows them in a report."""

from evalkit.analyses.comparators.compute import ENV, MEASURES, Comparison, analyse
from evalkit.analyses.comparators.display import show_comparators
from evalkit.analyses.comparators.publish import publish

__all__ = ["ENV", "MEASURES", "Comparison", "analyse", "publish", "show_comparators"]
