"""The search library: documents, backends, embeddings and the matcher.

It imports neither Flask nor ``marketplace`` so it can be tested on its own (DESIGN.md).
Filled in by the search-and-matching work; the marketplace browses from the database until then.
"""
