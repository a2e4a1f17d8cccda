"""Helpers shared by the test suite: required tools, brokers, the MicroPython runner."""
