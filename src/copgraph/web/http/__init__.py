"""What every view shares about HTTP, decided once: negotiation, errors, caching headers, the SPARQL Protocol,
authentication and sessions, rate limits, security headers, metrics and the access log."""
