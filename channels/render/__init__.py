"""Reply -> screen per channel kind; pure, shared by every provider of that kind."""
