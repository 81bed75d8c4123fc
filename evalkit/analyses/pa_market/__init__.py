from evalkit.analyses.pa_market.compute import *  # noqa: F401,F403  (interim)
