"""One module per URL area of the site and API; each computes its data and renders it in the negotiated format."""
