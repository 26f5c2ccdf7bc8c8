"""Contributions ("put yourself on the map"): form answers turned into a community record, kept pending, reviewed.

One contribution, in the order it travels (web/views/contribute.py is its HTTP side):

- `answers`: each answer checked as plain text naming only `known` values (the published ones), or field errors;
- `record`: the community record it proposes, validated by SHACL in the context of the published data, with the
  results mapped back to form fields; `duplicates`: published communities it may describe again, flagged;
- `pending`: kept as a TriG file plus a receipt beside the store, never loaded into it;
- `review`: a maintainer approves (the record published in one atomic store write, then its file) or rejects;
- `prune`: reviewed contributions' files removed once old enough.
"""
