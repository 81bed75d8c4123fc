from evalkit.analyses.outcomes.compute import *  # noqa: F401,F403  (interim)
