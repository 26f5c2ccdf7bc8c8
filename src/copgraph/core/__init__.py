"""The bottom layer: settings, the vocabulary and URI scheme, graph names, the one format table, RDF reading and
JSON-LD writing, the record builders and the cache helper. Imports nothing else of copgraph."""
