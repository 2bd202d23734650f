"""The coop's shared tables the cart reads: owned by blog, market, events, account, federation."""
