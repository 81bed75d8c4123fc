"""Plain helpers imported by test modules: `tables` (small clean raw tables in the data
contract), `reports` (fixture notebooks and data for `evalkit run`, and `evalkit_run`) and
`browser` (headless Chromium over the DevTools protocol, with axe-core and print to PDF).

Not tests (pytest collects only test_*.py) and no fixtures: those live in tests/conftest.py.
No test module imports another test module; what they share is here or in conftest.py.
"""
