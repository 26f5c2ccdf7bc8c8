"""Making a store generation: SHACL validation, the bulk load, dumps, the dataset description and the ontology's
documentation (and the same for a remote store)."""
