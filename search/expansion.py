"""Cross-lingual query expansion from a multilingual glossary.

The listings are mostly English, and BM25 matches words, so a need written in Chinese, Thai,
Vietnamese or Indonesian finds nothing by keyword (kNN alone carries it, and worse).  Here we
spot glossary terms in such a query and add their English equivalents, so the text retriever
gets words it can match.  English queries are left alone: BM25 already works for them.

The glossary (``glossary.tsv`` next to this file) is a general environmental-technology one,
written for the project; see the comment at its top.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

GLOSSARY = Path(__file__).with_name("glossary.tsv")
LANGUAGES = ("en", "zh", "vi", "th", "id")

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_THAI = re.compile("[\u0e00-\u0e7f]")
# Letters only Vietnamese uses among the Latin-script languages we serve (after NFC).
_VI_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
                  "àáãèéìíòóõùúýĩũ")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# Function words that tell Indonesian from English (both plain Latin script).
_ID_WORDS = frozenset("yang dan untuk di dengan kami ini dari pada ke dalam tidak atau "
                      "adalah akan juga kita perlu membutuhkan mencari sebuah serta "
                      "agar bagi oleh sangat dapat bisa harus secara".split())
# Vietnamese typed without accents has no telltale letters: its function words, unaccented.
_VI_PLAIN = frozenset("cua cac nhung duoc voi mot chung toi cho nay giai phap cong nghe "
                      "thong va la de trong khong".split())
_EN_WORDS = frozenset("the and for with we our of to in is are that this a an need "
                      "looking from on by which be can should".split())
# Thai is written without spaces; a substring match must not start after a leading vowel or
# end before a vowel sign or tone mark, or "ดิน" (soil) would fire inside "เดิน" (walk).
_THAI_LEADING = set("เแโใไ")
_THAI_TRAILING = re.compile("[\u0e30-\u0e3a\u0e45\u0e47-\u0e4e]")


@dataclass(frozen=True)
class Concept:
    english: tuple[str, ...]
    terms: dict[str, tuple[str, ...]]  # language -> terms, as written in the glossary


@dataclass
class Expansion:
    language: str
    concepts: list[Concept] = field(default_factory=list)
    english: list[str] = field(default_factory=list)  # distinct English terms to add

    @property
    def hits(self) -> int:
        return len(self.concepts)


def fold(text: str) -> str:
    """Lower case without accents ("Xử lý" -> "xu ly"); đ is a letter of its own to Unicode."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


@lru_cache(maxsize=4)
def load_glossary(path: Path = GLOSSARY) -> tuple[Concept, ...]:
    concepts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        terms = {lang: tuple(t.strip() for t in cell.split("|") if t.strip())
                 for lang, cell in zip(LANGUAGES, cells, strict=True)}
        concepts.append(Concept(english=terms["en"], terms=terms))
    return tuple(concepts)


def guess_language(text: str) -> str:
    """One of LANGUAGES, from the script and a few function words.  Good enough to choose a
    glossary column; a wrong "en" only means no expansion, which is today's behaviour."""
    letters = sum(c.isalpha() for c in text) or 1
    if len(_HAN.findall(text)) / letters > 0.2:
        return "zh"
    if len(_THAI.findall(text)) / letters > 0.2:
        return "th"
    words = _WORD.findall(_normal(text))
    if not words:
        return "en"
    if sum(any(c in _VI_LETTERS for c in w) for w in words) / len(words) > 0.2:
        return "vi"
    votes = {lang: sum(w in vocabulary for w in words)
             for lang, vocabulary in (("en", _EN_WORDS), ("id", _ID_WORDS), ("vi", _VI_PLAIN))}
    best = max(votes, key=votes.get)
    return best if votes[best] > votes["en"] else "en"  # ties stay English: no expansion


@lru_cache(maxsize=8)
def _patterns(language: str, folded: bool) -> tuple[tuple[str, Concept], ...]:
    """(term, concept) pairs, longest term first so "污水处理" wins over "污水"."""
    pairs = {}
    for concept in load_glossary():
        for term in concept.terms.get(language, ()):
            key = fold(term) if folded else _normal(term)
            pairs.setdefault(key, concept)
    return tuple(sorted(pairs.items(), key=lambda p: -len(p[0])))


def _thai_boundary(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return before not in _THAI_LEADING and not _THAI_TRAILING.match(after)


def _find(text: str, language: str, folded: bool = False
          ) -> list[tuple[int, int, Concept]]:
    """Non-overlapping glossary matches, longest first: (start, end, concept)."""
    taken = [False] * len(text)
    found = []
    spaced = language not in ("zh", "th")  # zh and th have no spaces between words
    for term, concept in _patterns(language, folded):
        if spaced and folded and " " not in term:
            continue  # one folded syllable is ambiguous in Vietnamese ("thai" vs "thải")
        pattern = re.escape(term)
        if spaced:
            pattern = rf"(?<![^\W_]){pattern}(?![^\W_])"
        for m in re.finditer(pattern, text):
            if any(taken[m.start():m.end()]):
                continue
            if language == "th" and not _thai_boundary(text, m.start(), m.end()):
                continue
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
            found.append((m.start(), m.end(), concept))
    return found


def find_concepts(text: str, language: str) -> list[Concept]:
    """The glossary concepts named in ``text`` (in ``language``), in order of appearance."""
    normal = _normal(text)
    found = _find(normal, language)
    if language == "vi":
        # People often type Vietnamese with some or all accents missing: match the
        # multi-syllable terms accent-blind too, in what the accented pass left over.
        rest = list(fold(normal))
        if len(rest) == len(normal):  # true of Vietnamese: one letter, one base letter
            for start, end, _ in found:
                rest[start:end] = " " * (end - start)
            found += _find("".join(rest), language, folded=True)
    ordered: dict[int, Concept] = {}
    for _, _, concept in sorted(found, key=lambda item: item[0]):
        ordered.setdefault(id(concept), concept)
    return list(ordered.values())


def expand(text: str, language: str | None = None) -> Expansion:
    """The query's language, the concepts it names and the English terms to add.  English
    queries get no terms: their words already match the corpus."""
    language = language or guess_language(text)
    if language == "en":
        return Expansion("en")
    concepts = find_concepts(text, language)
    english: dict[str, None] = {}
    for concept in concepts:
        english.update(dict.fromkeys(concept.english))
    return Expansion(language, concepts, list(english))
