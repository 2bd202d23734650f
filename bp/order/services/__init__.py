"""Services of one order's page."""
