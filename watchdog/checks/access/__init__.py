"""Access checks: principals that must keep privileges on the tables models read."""
