"""Running the notebooks: papermill execution, HTML rendering, manifest, index and publication."""
