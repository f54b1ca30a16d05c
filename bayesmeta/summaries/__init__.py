"""Typed posterior summaries from NUTS draws or from the exact engine."""
