"""The web service: the Flask app (`app`), its production server (`server`), one module per URL area (`views/`) and
the HTTP concerns every view shares (`http/`: negotiation, errors, caching, auth, sessions, rate limits, metrics)."""
