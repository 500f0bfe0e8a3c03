"""Shared helpers for the test suites (stand-ins for external services)."""
