"""Identifiers as words, and the content words of a question."""

from __future__ import annotations

import pytest

from chatdb_server.retrieval.words import content_words, identifier_phrase, identifier_words


@pytest.mark.parametrize(("name", "words"), [
    ("car_names", ["car", "names"]),
    ("MakeId", ["make", "id"]),
    ("StuID", ["stu", "id"]),
    ("HTTPServerLog", ["http", "server", "log"]),
    ("address_line_1", ["address", "line", "1"]),
    ("sales.OrderItems", ["sales", "order", "items"]),
    ("Highschooler", ["highschooler"]),
])
def test_identifier_words(name: str, words: list[str]) -> None:
    assert identifier_words(name, expand=False) == words


def test_abbreviations_expand() -> None:
    assert identifier_words("StuID") == ["student", "id"]
    assert identifier_phrase("dept_no") == "department number"


def test_phrase_of_a_name_without_letters_is_the_name() -> None:
    assert identifier_phrase("__") == "__"


def test_content_words_drop_stopwords_and_singularise() -> None:
    assert content_words("How many singers are there from France?") == {"singer", "france"}
    assert content_words("List the countries and their addresses") == {"country", "address"}
