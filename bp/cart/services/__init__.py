"""The cart domain's logic: functions that take the DB session first and what they need as
keywords (`settings`, `gateway`, `domains`), own their commits and know nothing of requests.

The cart: get_cart, calendar_cart, page_cart, total, summary, cart_items, identity, adopt,
notices. Checkout and payment: checkout (the whole flow), payment_attempts, check_sumup_status
(settlement), webhook, return_page, reconciler, refunds, clear_cart_for_order, orders,
order_events, merchants, references, ticket_capacity, payment_errors.
"""
