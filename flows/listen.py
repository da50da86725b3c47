"""Listening: typed text -> the content node that answers it, greetings and thanks, crisis words.

People in a panic type; they do not read menus. This module turns a typed message into the best
few content nodes with a confidence, so the engine can answer directly (CONFIDENT), offer three
buttons ("你是想问这些吗？", UNSURE) or fall back to the menu (NONE), and can answer 你好 / 谢谢
like a person. It knows nothing of Telegram or of the engine; the engine calls ``Listener.match``.

How text is scored, and why
---------------------------
Each node contributes short *phrases*: its title plus the phrasings and keywords in
``content/<locale>/phrases.yaml``. The node text is not indexed: it shares most of its words with
every other screen, and indexing it cut held-out top-1 from 84% to 75%.

A message is cut into clauses (punctuation, spaces, 还有/另外), and each clause, and each pair of
neighbours, is compared with every phrase by rapidfuzz's ``LCSseq``: how many characters they
share *in order*. On Chinese that is character matching without word segmentation: "我妈被爆通讯录
了" holds "爆通讯录" whole, "投诉的时候怎么说" holds "投诉怎么说" with a gap, and a long message
still holds the short phrase hiding in it. A phrase's score is mostly how much of it the clause
covers, a little how much of the clause it explains (so "报警" typed alone beats "报警带什么"),
damped when only two or three characters are shared (``_score``). A node's score is its best
phrase in any clause, so "利息36%合法吗？还有他们威胁我，能报警吗" puts both screens in the top
three. Measured against ``fuzz.partial_ratio`` blended with ``fuzz.ratio`` on the same phrases:
85% vs 81% top-1 on the dev split (benchmarks/RESULTS.md). A dictionary segmenter (jieba) would
add a word list that splits typos and pinyin initials badly; IDF weights per character did not help.

Before comparing, both sides are normalised alike (``normalise``): NFKC (full-width forms), lower
case, punctuation and spaces dropped; any percentage ("36%", "百分之三十六", "36个点") becomes "%",
other amounts "#", except numbers the phrases use (12378, 110); words of a ``same`` group in
phrases.yaml fold to its first word ("咋" -> "怎么", "bj" -> "报警": pinyin initials match only as
whole Latin words); ``filler`` (请问, pronouns, particles) is dropped. Homophone typos (报井 for 报警)
are not caught: that would need a pinyin table.

Latin-script locales (content/en): a Listener whose phrases are mostly Latin letters turns each
English word into one symbol (lightly stemmed: calls/calling/called are one word) before the same
comparison, so phrases are matched word by word and ``filler`` drops whole words ("a", "the"), not
letters. Measured on ``tests/data/utterances_en.tsv`` (139 messages): character matching gave
top-1 77%, top-3 90%, 12 of 82 confident answers wrong; word symbols give 89%, 93%, 2 of 99.
Crisis phrases of several Latin words match whole words ("want to die", not "want to diet").

The index is built once per loaded content (a few ms); ``match`` costs well under a millisecond.
``benchmarks/listen.py`` measures both, and accuracy on ``tests/data/utterances.tsv``.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

__all__ = [
    "Collision",
    "Crisis",
    "Hit",
    "Level",
    "Listener",
    "Match",
    "Phrases",
    "Social",
    "entries",
    "is_crisis",
    "load_crisis_exceptions",
    "load_phrases",
    "normalise",
]

Entry = tuple[str, str, str, Iterable[str]]  # node id, title, text, phrases


class Level(Enum):
    CONFIDENT = "confident"  # answer with the best node directly
    UNSURE = "unsure"  # offer up to three nodes: "你是想问这些吗？"
    NONE = "none"  # nothing fits: show the menu


class Social(Enum):
    GREETING = "greeting"
    THANKS = "thanks"


@dataclass(frozen=True)
class Hit:
    node: str
    score: float  # 0..100
    phrase: str  # the phrase that matched best (normalised), for logs and "我理解你是想问…"


@dataclass(frozen=True)
class Match:
    level: Level
    hits: tuple[Hit, ...] = ()  # best first, at most ``limit``
    social: Social | None = None  # set when the message greets or thanks (possibly as well as asking)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(h.node for h in self.hits)


# ----------------------------------------------------------------------------- normalising

_CN_NUM = "零〇一二两三四五六七八九十百千万亿"
_PERCENT = re.compile(rf"(?:百分之|千分之)[{_CN_NUM}点\d.]+|\d+(?:\.\d+)?\s*[%％‰]|[{_CN_NUM}\d.]+个点")
_NUMBER = re.compile(rf"\d+(?:\.\d+)?[万千百kKwW]?|[一二两三四五六七八九十][{_CN_NUM}]+")
_KEEP = re.compile(r"[\u3400-\u9fff\uf900-\ufaffa-z0-9%#.\U000f0000-\U000ffffd]+")
_LATIN_WORD = re.compile(r"[a-z]+")
_WORD_BASE = 0xF0000  # Supplementary Private Use Area-A: one code point stands for one Latin word
_WORD_SLOTS = 0xFFFE


def _stem(word: str) -> str:
    """A light English stemmer: calls, calling, called -> call; messages, message -> messag."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    else:
        for suffix in ("ing", "ed", "s"):
            if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _word_symbols(text: str) -> str:
    """Each Latin word becomes one symbol, so the character-level matcher compares English word
    by word, as it compares Chinese character by character (where a character is about a word)."""
    text = text.replace("'", "").replace("\u2019", "")
    return _LATIN_WORD.sub(lambda m: chr(_WORD_BASE + zlib.crc32(_stem(m.group(0)).encode()) % _WORD_SLOTS), text)


_REPEAT = re.compile(r"(.)\1{2,}")
_CLAUSE = re.compile(r"[\s,，。!！?？;；:：、~～…]+|还有|另外|以及|顺便问|再问")


def normalise(
    text: str, keep_numbers: frozenset[str] = frozenset(), fold: _Fold | None = None, *, words: bool = False
) -> str:
    """Fold a message (or a phrase) to the form both are compared in; see the module docstring.
    ``words``: Latin words become one symbol each (a locale written in a Latin script)."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _PERCENT.sub("%", t)
    t = _NUMBER.sub(lambda m: m.group(0) if m.group(0) in keep_numbers else "#", t)
    if fold is not None:
        t = fold(t)
    if words:
        t = _word_symbols(t)
    t = "".join(_KEEP.findall(t))
    t = t.strip(".")
    return _REPEAT.sub(r"\1\1", t)  # "谢谢谢谢" -> "谢谢", "啊啊啊啊" -> "啊啊"


class _Fold:
    """Words that mean the same for finding a screen ("咋" and "怎么", "bj" and "报警"), folded to
    the first of their group, longest first. Latin words (pinyin initials) only match whole."""

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        self._to: dict[str, str] = {}
        for group in groups:
            words = [unicodedata.normalize("NFKC", w).lower().strip() for w in group]
            for w in words[1:]:
                if w and w != words[0]:
                    self._to[w] = words[0]
        alts = [
            rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w)
            for w in sorted(self._to, key=len, reverse=True)
        ]
        self._re = re.compile("|".join(alts)) if alts else None

    def __call__(self, text: str) -> str:
        if self._re is None:
            return text
        return self._re.sub(lambda m: self._to[m.group(0)], text)


# ----------------------------------------------------------------------------- phrases from content


@dataclass(frozen=True)
class Phrases:
    """What ``content/<locale>/phrases.yaml`` holds: example phrasings per node, social words."""

    by_node: Mapping[str, tuple[str, ...]]
    greeting: tuple[str, ...] = ()
    thanks: tuple[str, ...] = ()
    filler: tuple[str, ...] = ()
    same: tuple[tuple[str, ...], ...] = ()  # groups of words that mean the same here; the first stands for all


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(x) for x in value if isinstance(x, (str, int, float)) and str(x).strip())


def load_phrases(path: Path) -> Phrases:
    """Read a phrases.yaml (safe loader). Missing file: no phrases, titles still match."""
    path = Path(path)
    if not path.exists():
        return Phrases({})
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = data.get("phrases") or {}
    by_node = {str(k): _strings(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    groups = data.get("same") or []
    same = tuple(g for g in (_strings(x) for x in groups if isinstance(x, list)) if len(g) > 1)
    return Phrases(
        by_node, _strings(data.get("greeting")), _strings(data.get("thanks")), _strings(data.get("filler")), same
    )


def entries(nodes: Mapping[str, Any], phrases: Mapping[str, Iterable[str]]) -> Iterator[Entry]:
    """(id, title, text, phrases) for every node: the Listener's input, wherever phrases live."""
    for nid, node in nodes.items():
        yield nid, node.title, node.text, tuple(phrases.get(nid, ()))


# ----------------------------------------------------------------------------- the matcher

CONFIDENT_SCORE = 80.0  # measured on the dev split (benchmarks/listen.py)
CONFIDENT_MARGIN = 8.0
UNSURE_SCORE = 50.0
MIN_COVER = 0.5
PHRASE_WEIGHT = 0.8


def _score(common: int, phrase: int, piece: int) -> float:
    """One phrase's score for one piece of a message, from the characters they share in order.

    Mostly how much of the phrase the piece covers (gaps allowed: "投诉的时候怎么说" covers
    "投诉怎么说"), a little how much of the piece the phrase explains (so the phrase that *is*
    the message beats one that merely contains it), damped when only one or two characters are
    shared: a single shared character is no evidence at all.
    """
    if common < 2 and phrase > 1:
        return 0.0
    cover = common / phrase
    if cover < MIN_COVER:
        return 0.0
    return 100.0 * (PHRASE_WEIGHT * cover + (1 - PHRASE_WEIGHT) * common / piece) * min(1.0, 0.7 + 0.1 * common)


def _pieces(window: str, size: int = 12, step: int = 6) -> list[str]:
    """Long stretches without punctuation, cut into overlapping pieces: in-order matching over a
    whole paragraph would collect a phrase's characters from far apart."""
    if len(window) <= size + step:
        return [window]
    return [window[i : i + size] for i in range(0, len(window) - step, step)]


class Collision(NamedTuple):
    node_a: str
    node_b: str
    phrase: str  # a phrase of node_a (as written in content) that would also find node_b


class Listener:
    """The index for one loaded content: built once, then ``match`` per message."""

    def __init__(
        self,
        nodes: Iterable[Entry],
        *,
        greeting: Iterable[str] = (),
        thanks: Iterable[str] = (),
        filler: Iterable[str] = (),
        same: Iterable[Iterable[str]] = (),
    ) -> None:
        self._fold = _Fold(same)
        raw: list[tuple[str, str]] = []
        for nid, title, _text, phrases in nodes:
            raw.append((nid, title))
            raw.extend((nid, p) for p in phrases)
        # A locale whose phrases are mostly Latin letters is matched word by word (see normalise).
        letters = "".join(p for _, p in raw)
        self._latin = sum(ch.isascii() and ch.isalpha() for ch in letters) > 0.5 * max(1, len(letters))
        self._keep = frozenset(n for _, p in raw for n in re.findall(r"\d+(?:\.\d+)?[万千百]?", p))
        self._greeting = self._words(greeting)
        self._thanks = self._words(thanks)
        self._filler = self._words(filler)
        seen: set[tuple[str, str]] = set()
        self._phrase: list[str] = []
        self._node: list[str] = []
        self._source: list[str] = []  # the phrase as the content wrote it
        for nid, p in raw:
            norm = self._norm(p)
            stripped = self._strip(norm, self._filler)
            # "告他们" must not shrink to "告"; one Latin word is a word, like two characters
            norm = stripped if len(stripped) >= (1 if self._latin else 2) else norm
            if norm and (nid, norm) not in seen:
                seen.add((nid, norm))
                self._phrase.append(norm)
                self._node.append(nid)
                self._source.append(p)
        self._phrases = frozenset(self._phrase)

    @classmethod
    def from_phrases(cls, nodes: Mapping[str, Any], phrases: Phrases) -> Listener:
        """The usual way in: a locale's nodes (anything with ``.title`` and ``.text``) and its phrases."""
        return cls(
            entries(nodes, phrases.by_node),
            greeting=phrases.greeting,
            thanks=phrases.thanks,
            filler=phrases.filler,
            same=phrases.same,
        )

    def _words(self, words: Iterable[str]) -> tuple[str, ...]:
        # longest first, so "谢谢你" is removed before "谢谢"
        return tuple(sorted({self._norm(w) for w in words} - {""}, key=len, reverse=True))

    def _norm(self, text: str) -> str:
        return normalise(text, self._keep, self._fold, words=self._latin)

    @staticmethod
    def _strip(text: str, words: tuple[str, ...]) -> str:
        for w in words:
            text = text.replace(w, "")
        return text

    @property
    def size(self) -> int:
        """How many phrases the index holds (titles included)."""
        return len(self._phrase)

    # -- social

    def _social(self, norm: str) -> tuple[Social | None, str]:
        """Greeting or thanks, and what is left of the message once those words are gone."""
        social = None
        if any(w in norm for w in self._thanks):
            social = Social.THANKS
        elif any(norm.startswith(w) for w in self._greeting):
            social = Social.GREETING
        rest = self._strip(norm, self._thanks + self._greeting) if social else norm
        return social, rest

    # -- matching

    def _clauses(self, text: str) -> list[str]:
        drop = self._thanks + self._greeting + self._filler
        parts = [self._strip(self._norm(p), drop) for p in _CLAUSE.split(text)]
        parts = [p for p in parts if p]
        windows = list(parts)
        windows += [a + b for a, b in pairwise(parts)]
        whole = "".join(parts)
        if whole and whole not in windows:
            windows.append(whole)
        return windows

    def scores(self, text: str) -> dict[str, tuple[float, str]]:
        """Every node's best score for ``text`` (0..100) and the phrase that gave it."""
        best: dict[str, tuple[float, str]] = {}
        for window in self._clauses(text):
            for piece in _pieces(window):
                found = process.extract(piece, self._phrase, scorer=LCSseq.similarity, limit=None, score_cutoff=1)
                for phrase, common, i in found:
                    score = _score(common, len(phrase), len(piece))
                    node = self._node[i]
                    if score > best.get(node, (0.0, ""))[0]:
                        best[node] = (score, phrase)
        return best

    def match(self, text: str, limit: int = 3) -> Match:
        """The best nodes for a typed message, with how sure we are; see ``Level``."""
        norm = self._norm(text)
        social, rest = self._social(norm)
        rest = self._strip(rest, self._filler)
        if len(rest) < 2 and rest not in self._phrases:
            return Match(Level.NONE, (), social)
        # a tie goes to the node whose phrase is longer, i.e. more specific
        ranked = sorted(
            (Hit(n, round(s, 1), p) for n, (s, p) in self.scores(text).items()),
            key=lambda h: (-h.score, -len(h.phrase)),
        )
        hits = tuple(h for h in ranked[:limit] if h.score >= UNSURE_SCORE)
        if not hits:
            return Match(Level.NONE, (), social)
        second = hits[1].score if len(hits) > 1 else 0.0
        sure = hits[0].score >= CONFIDENT_SCORE and hits[0].score - second >= CONFIDENT_MARGIN
        return Match(Level.CONFIDENT if sure else Level.UNSURE, hits, social)

    def collisions(self, min_score: float = 90.0) -> list[Collision]:
        """Phrases of one node that, typed as they are, would score ``min_score`` or more for
        another node: the operator's ``check`` warns about them (one of the two should go or
        become more specific). Titles count as phrases. Each unordered pair is reported once."""
        found: dict[tuple[str, str, str], None] = {}
        for i, phrase in enumerate(self._phrase):
            for other, common, j in process.extract(
                phrase, self._phrase, scorer=LCSseq.similarity, limit=None, score_cutoff=2
            ):
                a, b = self._node[i], self._node[j]
                if a == b or _score(common, len(other), len(phrase)) < min_score:
                    continue
                if (b, a, self._source[j]) not in found:
                    found[(a, b, self._source[i])] = None
        return [Collision(*k) for k in found]


# ----------------------------------------------------------------------------- crisis words

# Traditional forms of the characters crisis phrases use, so "輕生" and "自殺" count too.
_TRADITIONAL = str.maketrans(
    "殺輕結樓藥們沒義過麼這個會為來還話離開撐斷遺書傷殘農燒戀無見尋盡麼說覺應該塊錢讓",
    "杀轻结楼药们没义过么这个会为来还话离开撑断遗书伤残农烧恋无见寻尽么说觉应该块钱让",
)
# Words that may sit inside a longer crisis phrase without changing it: "不想再活" is "不想活",
# "活着真的好累" is "活着好累". Only phrases of three characters or more get gaps.
_GAP = "[再都真的要去就也是还好很太快点一得这么实在]{0,2}"


def _fold_crisis(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower().translate(_TRADITIONAL)
    return "".join(_KEEP.findall(t.replace("%", "").replace("#", "")))


def _fold_latin(text: str) -> str:
    """Latin words kept apart by single spaces, so "want to die" is not found in "want to diet"."""
    t = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("\u2019", "")
    return " " + " ".join(re.findall(r"[a-z0-9]+", t)) + " "


def _is_latin(phrase: str) -> bool:
    """Several Latin words ("want to die"): matched as whole words. One word ("suicide", pinyin
    "zisha") is matched like Chinese, anywhere, even spaced out."""
    return phrase.isascii() and len(re.findall(r"[a-zA-Z0-9]+", phrase)) > 1


class Crisis:
    """Crisis words compiled once: ``Crisis(words, exceptions)(text) -> bool``.

    Plain substring matching misses "不 想 活", "不想再活了", "活着真的好累" and "輕生", and a
    missed crisis is far worse than a kind message shown once too often. ``exceptions`` are
    set phrases that contain a crisis word but mean something else ("想死你了" is missing
    someone); they are cut out of the message before matching.
    """

    def __init__(self, words: Iterable[str], exceptions: Iterable[str] = ()) -> None:
        words, exceptions = list(words), list(exceptions)
        patterns = []
        for w in {_fold_crisis(w) for w in words if not _is_latin(w)} - {""}:
            patterns.append(_GAP.join(map(re.escape, w)) if len(w) >= 3 else re.escape(w))
        self._re = re.compile("|".join(sorted(patterns, key=len, reverse=True))) if patterns else None
        self._except = sorted({_fold_crisis(e) for e in exceptions} - {""}, key=len, reverse=True)
        # English (any Latin-script) phrases match whole words: "kill myself", not "skill myself up"
        latin = sorted({_fold_latin(w) for w in words if _is_latin(w)} - {"  "}, key=len, reverse=True)
        self._latin = re.compile("|".join(re.escape(w) for w in latin)) if latin else None
        self._latin_except = sorted({_fold_latin(e) for e in exceptions} - {"  "}, key=len, reverse=True)

    def __call__(self, text: str) -> bool:
        if self._latin is not None:
            t = _fold_latin(text)
            for e in self._latin_except:
                t = t.replace(e, " | ")
            if self._latin.search(t):
                return True
        if self._re is None:
            return False
        t = _fold_crisis(text)
        for e in self._except:
            t = t.replace(e, "|")  # a separator, so the two sides do not join into a new phrase
        return self._re.search(t) is not None


@lru_cache(maxsize=16)
def _crisis(words: tuple[str, ...], exceptions: tuple[str, ...]) -> Crisis:
    return Crisis(words, exceptions)


def is_crisis(text: str, words: Iterable[str], exceptions: Iterable[str] = ()) -> bool:
    """Does ``text`` hold a crisis phrase? ``words`` and ``exceptions`` come from crisis.yaml
    (``crisis.words``, ``crisis.except``); compiled once per distinct list and cached."""
    return _crisis(tuple(words), tuple(exceptions))(text)


def load_crisis_exceptions(path: Path) -> tuple[str, ...]:
    """``crisis.except`` from a crisis.yaml (the content loader does not read it yet)."""
    path = Path(path)
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    crisis = data.get("crisis") if isinstance(data, dict) else None
    return _strings(crisis.get("except")) if isinstance(crisis, dict) else ()
