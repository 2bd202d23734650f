"""What the cart exchanges with the coop's other domains: DTOs, service protocols, and who owns
a row (ownership.py)."""
