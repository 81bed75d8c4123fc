"""Running the notebooks: papermill execution, HTML rendering, manifest, index and publication."""

#: --la value meaning every council in the data, each with its own reports (here, not in
#: `evalkit.run.plan`, so the command line can read it before importing the data libraries)
EACH_COUNCIL = "all-councils"
