"""SQL implementations of the domain services, over the coop's shared tables."""
