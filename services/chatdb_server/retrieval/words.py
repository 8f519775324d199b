"""Identifiers as words: what ``car_names``, ``StuID`` and ``MakeId`` say in plain language.

Schema names are written for programs; questions are written for people. Splitting names
into lower-case words (and spelling out a few common abbreviations) lets an embedding model
and a lexical matcher see that "student" in a question and ``StuID`` in a schema meet.
"""

from __future__ import annotations

import re

_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

ABBREVIATIONS: dict[str, str] = {
    "acc": "account", "addr": "address", "amt": "amount", "avg": "average", "cat": "category",
    "cnt": "count", "cust": "customer", "dept": "department", "desc": "description", "dob": "date of birth",
    "emp": "employee", "id": "id", "info": "information", "lang": "language", "loc": "location",
    "max": "maximum", "min": "minimum", "mgr": "manager", "msg": "message", "no": "number",
    "num": "number", "nbr": "number", "org": "organization", "pct": "percent", "prod": "product",
    "qty": "quantity", "ref": "reference", "stu": "student", "tel": "telephone", "txn": "transaction",
    "yr": "year", "dt": "date", "ts": "timestamp", "cd": "code", "nm": "name", "mpg": "miles per gallon",
}
"""Abbreviations common in schemas, spelled out where a name uses them as a whole word."""


def identifier_words(name: str, *, expand: bool = True) -> list[str]:
    """The lower-case words of an identifier: ``StuID`` → ["student", "id"], ``car_names`` → ["car", "names"].

    Schema-qualified names keep only the table part's words plus the schema's.
    """
    words: list[str] = []
    for part in _PARTS.findall(name):
        word = part.lower()
        words.append(ABBREVIATIONS.get(word, word) if expand else word)
    return words


def identifier_phrase(name: str, *, expand: bool = True) -> str:
    """:func:`identifier_words` joined by spaces (the name itself when it has no letters or digits)."""
    return " ".join(identifier_words(name, expand=expand)) or name


_TOKEN = re.compile(r"[a-z0-9]+")

_STOPWORD_TEXT = """
a an and are as at be by did do does each every for from give had has have how i in is it its list me
many much my of on or show that the their them there these they this those to was were what when where
which who whom whose with all any find return tell name names number count total give display please
than more most less least one two three same different
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Words that say nothing about which table a question needs."""


def content_words(text: str) -> set[str]:
    """The informative lower-case words of free text, crudely singularised."""
    return {_singular(w) for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}


def _singular(word: str) -> str:
    """A crude English singular, enough to match "singers" with ``singer``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
