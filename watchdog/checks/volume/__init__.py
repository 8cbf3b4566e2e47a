"""Volume checks."""
