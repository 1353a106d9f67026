"""TF-IDF caption retrieval (Salton & Buckley 1988), for the retrieval baseline.

Same weighting as scikit-learn's TfidfVectorizer defaults: raw term counts times the smoothed
idf log((1 + n) / (1 + df)) + 1, rows L2-normalised, so the dot product is the cosine.
Tokens are gan_core.data.text.tokenize's; words unseen in the corpus are ignored.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from gan_core.data.text import tokenize


class TfidfIndex:
    """The corpus as L2-normalised TF-IDF rows; `nearest` finds the most similar row per query."""

    def __init__(self, corpus: Sequence[str]):
        docs = [tokenize(text) for text in corpus]
        self.words = {w: i for i, w in enumerate(sorted({w for doc in docs for w in doc}))}
        counts = self._counts(docs)
        df = np.bincount(counts.indices, minlength=len(self.words))
        self.idf = np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0
        self.matrix = self._weigh(counts)  # [n_docs, n_words] csr

    def _counts(self, docs: list[list[str]]) -> sparse.csr_matrix:
        rows, cols = [], []
        for r, doc in enumerate(docs):
            ids = [self.words[w] for w in doc if w in self.words]
            rows += [r] * len(ids)
            cols += ids
        data = np.ones(len(rows), dtype=np.float64)
        counts = sparse.csr_matrix((data, (rows, cols)), shape=(len(docs), len(self.words)))
        counts.sum_duplicates()
        return counts

    def _weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        weighted = counts.multiply(self.idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
        return sparse.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ weighted

    def vectors(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self._weigh(self._counts([tokenize(t) for t in texts]))

    def nearest(self, queries: Sequence[str], chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(index int64 [Q], cosine float64 [Q]) of the most similar corpus row per query (first on ties)."""
        q = self.vectors(queries)
        best, score = [], []
        for start in range(0, q.shape[0], chunk):
            sims = (q[start:start + chunk] @ self.matrix.T).toarray()
            best.append(np.argmax(sims, axis=1))
            score.append(sims[np.arange(len(sims)), best[-1]])
        if not best:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(best).astype(np.int64), np.concatenate(score)
