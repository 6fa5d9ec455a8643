"""Edges: each provider's wire format to and from core messages; no business rules here."""
