"""Cross-lingual query expansion from a multilingual glossary.

The listings are mostly English, and BM25 matches words, so a need written in Chinese, Thai,
Vietnamese or Indonesian finds nothing by keyword (kNN alone carries it, and worse).  Here we
spot glossary terms in such a query and add their English equivalents, so the text retriever
gets words it can match.  An English query gets the English synonyms of its concepts.

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
# Thai leading vowels, and the vowel signs and tone marks that follow a consonant.
_THAI_LEADING = "เแโใไ"
_THAI_TRAILING = "\u0e30-\u0e3a\u0e45\u0e47-\u0e4e"


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
    glossary column: a wrong guess finds few concepts, which leaves the query as it was."""
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
    if not any(votes.values()):
        # A few keywords, as typed in a search box: the column that knows the most of them.
        votes = {lang: len(find_concepts(text, lang)) for lang in ("en", "id", "vi")}
    best = max(votes, key=votes.get)
    return best if votes[best] > votes["en"] else "en"  # ties go to the corpus language


@lru_cache(maxsize=8)
def _matcher(language: str, folded: bool) -> tuple[re.Pattern, dict[str, Concept]]:
    """One regular expression for all of a language's terms, and the concept of each term.
    Longest terms first: at any position the longest term wins ("污水处理" over "污水")."""
    concepts: dict[str, Concept] = {}
    for concept in load_glossary():
        for term in concept.terms.get(language, ()):
            key = fold(term) if folded else _normal(term)
            if folded and " " not in key:
                continue  # one folded syllable is ambiguous in Vietnamese ("thai" vs "thải")
            concepts.setdefault(key, concept)
            if language == "en":
                concepts.setdefault(_singular(key), concept)
    if not concepts:
        return re.compile("(?!)"), concepts  # matches nothing
    alternatives = "|".join(re.escape(t) for t in sorted(concepts, key=len, reverse=True))
    if language == "th":
        # Thai has no spaces: do not start after a leading vowel or stop before a vowel sign
        # or tone mark, or "ดิน" (soil) would fire inside "เดิน" (walk).
        pattern = f"(?<![{_THAI_LEADING}])(?P<t>{alternatives})(?![{_THAI_TRAILING}])"
    elif language == "zh":
        pattern = f"(?P<t>{alternatives})"  # no spaces, and a word boundary is not written
    else:
        plural = "(?:e?s)?" if language == "en" else ""  # "sensor" also finds "sensors"
        pattern = rf"(?<![^\W_])(?P<t>{alternatives}){plural}(?![^\W_])"
    return re.compile(pattern), concepts


def _singular(term: str) -> str:
    """"batteries" -> "battery", "sensors" -> "sensor": the pattern adds plurals back.  Short
    words keep their "s": "wells" must not become "well" (as in "as well as")."""
    if term.endswith("ies"):
        return term[:-3] + "y"
    if len(term) >= 6 and term.endswith("s") and not term.endswith("ss"):
        return term[:-1]
    return term


def _find(text: str, language: str, folded: bool = False
          ) -> list[tuple[int, int, Concept]]:
    """Non-overlapping glossary matches, left to right: (start, end, concept)."""
    pattern, concepts = _matcher(language, folded)
    return [(m.start(), m.end(), concepts[m.group("t")]) for m in pattern.finditer(text)]


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
    """The query's language, the concepts it names and their English terms.  An English query
    gets its concepts' English synonyms ("PV" also says "photovoltaic", "solar panels")."""
    language = language or guess_language(text)
    concepts = find_concepts(text, language)
    english: dict[str, None] = {}
    for concept in concepts:
        english.update(dict.fromkeys(concept.english))
    return Expansion(language, concepts, list(english))


def new_words(text: str, terms: list[str]) -> list[str]:
    """The words of ``terms`` that ``text`` lacks, once each.  Repeating a query word would
    count it twice in Elasticsearch's match query but once in the local backend."""
    seen = set(_WORD.findall(_normal(text)))
    fresh: dict[str, None] = {}
    for term in terms:
        for word in _WORD.findall(_normal(term)):
            if word not in seen:
                fresh.setdefault(word)
    return list(fresh)
