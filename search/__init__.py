"""The search library: documents, two backends (local and Elasticsearch), embeddings, the
glossary expansion, the matcher and the delivery rule's evidence.

It imports neither Flask nor ``marketplace`` so it can be tested on its own (DESIGN.md); the
marketplace passes in what it needs (the embedder, the taxonomy's crosswalk).
"""
