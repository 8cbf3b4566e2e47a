"""Drift checks."""
