from evalkit.analyses.uptake.compute import *  # noqa: F401,F403  (interim)
