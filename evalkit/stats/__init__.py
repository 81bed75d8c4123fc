"""Statistics: indicators, funnels, comparisons, workforce measures and DiD, by name here.

The models have their own modules, imported by name: `from evalkit.stats import glm, its, spc,
survival, power`.

Every indicator function takes a DataFrame and column names, never changes the input, and
returns a tidy frame: the `by` columns, the inputs (summed within groups), `value`, `lower`,
`upper`, `conf`, `method` and `note` (why a value is missing or was adjusted). Work is
vectorised across groups: counts are summed with one `groupby` and every interval is computed
on whole arrays. A categorical `by` column keeps its empty categories, which come back with a
note rather than disappearing.
"""

from evalkit.stats.comparisons import compare_proportions, relative_likelihood
from evalkit.stats.did import did
from evalkit.stats.funnels import FUNNEL_CONF, funnel_limits, funnel_significance
from evalkit.stats.indicators import ESP2013, dsr, isr, mean, proportion, rate
from evalkit.stats.limits import SMALL_COUNT
from evalkit.stats.workforce import dissimilarity_index, diversity_index

__all__ = [
    "ESP2013",
    "FUNNEL_CONF",
    "SMALL_COUNT",
    "compare_proportions",
    "did",
    "dissimilarity_index",
    "diversity_index",
    "dsr",
    "funnel_limits",
    "funnel_significance",
    "isr",
    "mean",
    "proportion",
    "rate",
    "relative_likelihood",
]
