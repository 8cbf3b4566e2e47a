"""Freshness checks."""
