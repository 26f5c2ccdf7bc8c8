"""Running SPARQL: the backend contract and its embedded and remote implementations, the killable query process
with its limits, the query-text guards and result serialisation."""
