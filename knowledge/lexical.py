"""The lexical signal: character n-gram TF-IDF over the folded text of every indexed row.

Character n-grams match Kazakh and Russian word forms and typos without any language model,
which is what keeps those languages working when only an English embedding model is present.
The matrix is stored transposed (n-gram → rows) so a query touches only the rows that share one
of its n-grams.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.text import fold

NGRAMS = (2, 4)
# n-grams found in more rows than this say nothing about which fact is meant, and their postings
# are what makes a query slow on a large base; a base smaller than this keeps every n-gram.
MAX_ROWS_PER_NGRAM = 20_000


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        preprocessor=fold,
        sublinear_tf=True,
        max_df=MAX_ROWS_PER_NGRAM,
        dtype=np.float32,
    )


@dataclass
class LexicalIndex:
    """TF-IDF vectors of the rows; ``scores`` gives the cosine of a query with each row."""

    vectorizer: TfidfVectorizer
    postings: sp.csr_matrix  # shape (n-grams, rows)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        vectorizer = _vectorizer()
        matrix = vectorizer.fit_transform(texts)
        return cls(vectorizer, sp.csr_matrix(matrix.T, dtype=np.float32))

    def scores(self, text: str) -> np.ndarray:
        """Cosine similarity (0..1) of ``text`` with every row; zeros where nothing is shared."""
        query = self.vectorizer.transform([text])
        if query.nnz == 0:
            return np.zeros(self.postings.shape[1], dtype=np.float32)
        return np.asarray((query @ self.postings).todense(), dtype=np.float32).ravel()

    def save(self, directory: Path) -> None:
        sp.save_npz(directory / "lexical.npz", self.postings)
        np.save(directory / "lexical_idf.npy", self.vectorizer.idf_)
        vocabulary = {gram: int(i) for gram, i in self.vectorizer.vocabulary_.items()}
        (directory / "lexical_vocabulary.json").write_text(json.dumps(vocabulary, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        vectorizer = _vectorizer()
        vectorizer.vocabulary_ = json.loads((directory / "lexical_vocabulary.json").read_text())
        vectorizer.idf_ = np.load(directory / "lexical_idf.npy")
        postings = sp.load_npz(directory / "lexical.npz").tocsr()
        return cls(vectorizer, postings)
