"""The hardening tests' constants (fixtures such as `frozen` and `rates` are in tests/conftest.py)."""

from tests.shared import INTAKE, NOW  # noqa: F401 - the tests here import them from this module
