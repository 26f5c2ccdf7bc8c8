"""Read models: what the pages and APIs know about the data (records, site index, network, figures, audit changes,
canned-query catalogue, counts), read from one dataset version, with no Flask."""
