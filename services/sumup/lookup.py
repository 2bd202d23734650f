"""Finding a checkout by our reference, for a create whose answer was lost or refused (409)."""

from __future__ import annotations

from services.sumup.protocol import PaymentGateway
from services.sumup.types import SumUpCheckout, SumUpCredentials


async def checkout_of_reference(
    gateway: PaymentGateway, *, credentials: SumUpCredentials, reference: str
) -> SumUpCheckout | None:
    """The checkout created with exactly `reference`, or None; raises SumUpError.

    SumUp's list is filtered by the reference, but only an exact match is ours: a reference
    is never taken for another that merely contains it.
    """
    found = await gateway.list_checkouts(credentials=credentials, reference=reference)
    return next((c for c in found if c.checkout_reference == reference), None)
