"""Local HTTP servers speaking each provider's API exactly, on free loopback ports."""
