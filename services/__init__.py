"""What several domains share: contracts (DTOs, protocols, ownership), the SQL implementations of
the other domains' protocols and their stubs, the registry of domain services, the SumUp client,
the events outbox and its relay, health and metrics, and the runtime that holds it all."""
