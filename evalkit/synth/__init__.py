"""Synthetic data with planted effects: a tool beside the data layer, never imported by it."""
