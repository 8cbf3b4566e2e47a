"""HTML reports: pages a person opens, every interpolated field escaped."""
