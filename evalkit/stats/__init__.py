"""Statistics: indicators, funnels, workforce measures, models, ITS, SPC, survival, power."""

from evalkit.stats.indicators import *  # noqa: F401,F403  (interim)
