"""What the cart exchanges with the coop's other domains: DTOs and service protocols."""
