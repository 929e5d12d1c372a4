"""Finding and matching listings: the search engine's lifetime (``engine``), documents and
index upkeep (``indexing``, ``index_check``), ranking and the match ledger (``matching``), why a
match was made (``explanations``), the search page (``search_page``, ``search_views``), the
owners' match pages (``match_views``), saved searches and the evaluations.
"""
