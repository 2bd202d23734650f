"""Services of the order list."""
