"""Words of questions and of schema names: tokens, singular forms, name splitting, a small lexicon."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(
    r"``(?P<q1>.+?)''|\"(?P<q2>[^\"]+)\"|“(?P<q3>[^”]+)”|(?<![\w])'(?P<q4>[^']+?)'(?![\w])"
    r"|(?P<num>-?\d+(?:[.,]\d+)*)"
    r"|(?P<word>[A-Za-z\u00C0-\u024F]+(?:'[A-Za-z]+)?|\w+)")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

#: Abbreviations common in column names, expanded to the words people say.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "num": ("number",), "no": ("number",), "nbr": ("number",), "qty": ("quantity",), "amt": ("amount",),
    "dept": ("department",), "emp": ("employee",), "addr": ("address",), "desc": ("description",),
    "dob": ("date", "of", "birth"), "yr": ("year",), "stu": ("student",), "fname": ("first", "name"),
    "lname": ("last", "name"), "pct": ("percent",), "avg": ("average",), "cnt": ("count",),
    "cust": ("customer",), "prod": ("product",), "tel": ("telephone",), "loc": ("location",),
    "hp": ("horsepower",), "cont": ("continent",), "dest": ("destination",), "src": ("source",),
    "indep": ("independence",), "abbrev": ("abbreviation",), "mgr": ("manager",), "org": ("organization",),
    "pop": ("population",), "dt": ("date",), "ts": ("time",), "sal": ("salary",), "str": ("street",),
    "lang": ("language",), "info": ("information",), "ref": ("reference",), "max": ("maximum",),
    "min": ("minimum",), "acc": ("account",), "cat": ("category",), "pos": ("position",), "uid": ("id",),
    "gnp": ("gnp",), "yn": (), "mpg": ("mpg",), "edispl": ("edispl",), "accelerate": ("acceleration",),
    "dor": ("date", "of", "registration"),
}

_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman", "teeth": "tooth",
              "feet": "foot", "mice": "mouse", "geese": "goose", "data": "data", "series": "series",
              "species": "species", "news": "news", "status": "status", "address": "address",
              "business": "business", "class": "class", "boss": "boss", "analysis": "analysis",
              "series's": "series", "bus": "bus", "campus": "campus", "census": "census", "virus": "virus"}

#: Words a question uses for something a schema often names differently (both sides are singular).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "person": ("people", "people_id"), "nation": ("country",), "country": ("nationality", "citizenship"),
    "old": ("age",), "young": ("age",), "age": ("old",), "cost": ("price", "amount"),
    "price": ("cost",), "earning": ("earnings", "money"), "salary": ("wage", "pay"), "born": ("birth",),
    "birthday": ("birth", "dob"), "phone": ("telephone", "cell"), "email": ("mail",), "mail": ("email",),
    "zip": ("postcode", "postal"), "postcode": ("zip",), "city": ("town",), "town": ("city", "hometown"),
    "hometown": ("town", "home"), "quantity": ("amount", "count"), "female": ("sex", "gender"),
    "male": ("sex", "gender", "is_male"), "gender": ("sex",), "sex": ("gender",), "kind": ("type",),
    "type": ("kind",), "description": ("detail", "desc"), "title": ("name",), "client": ("customer",),
    "customer": ("client",), "item": ("product",), "product": ("item",), "purchase": ("order",),
    "staff": ("employee",), "employee": ("staff",), "worker": ("employee",), "student": ("pupil",),
    "teacher": ("instructor", "professor"), "instructor": ("teacher",), "tall": ("height",),
    "height": ("tall",), "heavy": ("weight",), "weight": ("heavy",), "long": ("length", "duration"),
    "size": ("area", "capacity"), "big": ("size", "area", "capacity"), "large": ("size", "area", "capacity"),
    "area": ("surface",), "founded": ("founded", "founding", "established"), "year": ("yr",),
    "money": ("earnings", "amount"), "rank": ("ranking",), "ranking": ("rank",), "job": ("occupation", "role"),
    "occupation": ("job",), "role": ("job",), "maker": ("manufacturer", "make"), "brand": ("make", "maker"),
    "manufacturer": ("maker", "make"), "car": ("automobile", "vehicle"), "speak": ("language",),
    "language": ("speak",), "live": ("address", "city"), "episode": ("episode",), "dog": ("dog",),
    "owner": ("owner",), "show": ("series",), "cartoon": ("cartoon",), "hire": ("hiring",),
    "airline": ("carrier",), "flight": ("flight",), "revenue": ("sales", "amount", "income"),
}

STOPWORDS = frozenset({
    "a", "an", "the", "of", "for", "in", "on", "at", "by", "with", "to", "from", "is", "are", "was", "were",
    "be", "been", "being", "do", "does", "did", "have", "has", "had", "having", "what", "which", "who", "whom",
    "whose", "where", "when", "how", "many", "much", "all", "each", "every", "and", "or", "not", "that", "this",
    "these", "those", "there", "their", "its", "it", "they", "them", "show", "list", "give", "find", "return",
    "tell", "me", "us", "please", "also", "as", "any", "some", "than", "then", "into", "about", "our", "your",
    "you", "we", "i", "his", "her", "he", "she", "one", "ones", "per", "such", "only", "just", "can", "could",
    "would", "should", "will", "get", "display", "provide", "report", "so", "if", "both", "either", "neither",
    "whether", "way", "whats", "what's", "let", "lets",
})

#: Words so common in column names that a match on them alone says little.
GENERIC_WORDS = frozenset({"id", "name", "code", "type", "number", "date", "detail", "description", "other",
                           "value", "status", "info", "information", "flag", "yn", "is"})


@dataclass(frozen=True)
class Token:
    """One question token: its text as written, lower case, singular form; quoted or numeric."""

    text: str
    lower: str
    lemma: str
    start: int
    quoted: bool = False
    number: float | None = None


@lru_cache(maxsize=8192)
def singular(word: str) -> str:
    """The singular of an English noun, by rule (good enough for matching names)."""
    word = word.lower()
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word == "ids":
        return "id"
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "ous")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("oes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("'s"):
        return word[:-1]
    if word.endswith("'s"):
        return word[:-2]
    return word


def _parse_number(raw: str) -> float | None:
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "twenty": 20, "hundred": 100}


def tokenize(question: str) -> list[Token]:
    """Tokens of a question; quoted phrases stay one token."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(question):
        quoted = next((match.group(g) for g in ("q1", "q2", "q3", "q4") if match.group(g)), None)
        if quoted is not None:
            text = quoted.strip()
            tokens.append(Token(text, text.lower(), text.lower(), match.start(), quoted=True))
        elif match.group("num"):
            raw = match.group("num")
            tokens.append(Token(raw, raw, raw, match.start(), number=_parse_number(raw)))
        else:
            raw = match.group("word")
            lower = raw.lower()
            if lower.endswith("'s"):
                lower = lower[:-2]
            number = float(_NUMBER_WORDS[lower]) if lower in _NUMBER_WORDS else None
            tokens.append(Token(raw, lower, singular(lower), match.start(), number=number))
    return tokens


@lru_cache(maxsize=8192)
def name_words(name: str) -> tuple[str, ...]:
    """The words of a schema name: snake_case, camelCase and abbreviations split and expanded, singular."""
    words: list[str] = []
    for part in re.split(r"[\W_]+", name.split(".")[-1]):
        for piece in _CAMEL.findall(part):
            lowered = piece.lower()
            if lowered in ABBREVIATIONS:
                words.extend(ABBREVIATIONS[lowered])
            else:
                words.append(singular(lowered))
    return tuple(w for w in words if w)


_STEM_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "ors", "ed", "er", "or", "ion", "ions", "es", "s", "al",
                  "ly", "ment", "ments")


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A crude stem for loose matching (``director`` ~ ``directed``, ``production`` ~ ``produced``)."""
    for suffix in _STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def text_words(text: str) -> tuple[str, ...]:
    """Singular lower-case content words of free text (comments, descriptions)."""
    return tuple(t.lemma for t in tokenize(text) if t.lemma not in STOPWORDS and not t.quoted)
