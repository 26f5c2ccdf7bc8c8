"""copgraph: a linked-open-data knowledge graph and SPARQL endpoint of UK FE communities of practice.

Layers, highest first (each imports only from itself and those below; `lint-imports` checks it): `cli` > `web` >
`contributions` > `ingest` > `model` > `build` > `query` > `store` > `core`. docs/ARCHITECTURE.md draws the picture.
"""
