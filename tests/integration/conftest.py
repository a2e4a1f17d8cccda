"""Integration tests use the hall server and device fixtures of tests/conftest.py."""
