"""The coop's shared tables that the cart reads: owned by blog, market, events and federation."""
