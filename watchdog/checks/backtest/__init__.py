"""``kind: backtest``: model quality from ground truth that arrives later (issue #13)."""
