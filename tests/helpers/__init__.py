"""Plain helpers imported by test modules: `tables` (small clean raw tables in the data
contract) and `reports` (fixture notebooks and data for `evalkit run`, and `evalkit_run`).

Not tests (pytest collects only test_*.py) and no fixtures: those live in tests/conftest.py.
No test module imports another test module; what they share is here or in conftest.py.
"""
