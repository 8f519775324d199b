"""Webhooks: subscriptions per tenant, the event outbox, and the dispatcher that delivers signed events."""
