"""The kernel: shared value types, the intent pipeline, configuration and infrastructure ports."""
