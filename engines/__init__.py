"""Bounded contexts: pure domain models and async services over ports; no channels, no words."""
