"""One adapter per provider, each speaking the provider's real API at its base URL."""
