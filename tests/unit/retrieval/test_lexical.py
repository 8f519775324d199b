import numpy as np
import pytest

from chatdb_server.retrieval.lexical import lexical_bonus, name_words

SHOP = [
    ("orders", ["id", "customer_id", "placed_on"]),
    ("order_items", ["id", "order_id", "product_id", "quantity"]),
    ("products", ["id", "name", "price"]),
    ("reviews", ["id", "product_id", "customer_id", "rating"]),
]


def bonus(question: str, tables: list[tuple[str, list[str]]] = SHOP, weight: float = 1.0) -> dict[str, float]:
    values = lexical_bonus(question, name_words(tables), weight)
    return {name: float(value) for (name, _), value in zip(tables, values, strict=True)}


def test_a_question_naming_a_table_wholly_lifts_it_above_tables_that_share_a_word() -> None:
    scores = bonus("orders")
    assert scores["orders"] > scores["order_items"] > 0
    assert scores["products"] == 0


def test_a_column_naming_another_table_weighs_half_an_own_column() -> None:
    scores = bonus("products and their quantity")
    # two question words: each weight counts a quarter
    assert scores["reviews"] == pytest.approx(0.5 / 4)  # product_id
    assert scores["order_items"] == pytest.approx((0.5 + 1) / 4)  # product_id, quantity
    assert scores["products"] > scores["order_items"]


def test_tables_outside_the_rows_still_make_a_column_word_point_elsewhere() -> None:
    alone = [("reviews", ["id", "product_id", "rating"])]
    inside = lexical_bonus("product", name_words(alone), 1.0)
    pointed = lexical_bonus("product", name_words(alone, other_tables=["products"]), 1.0)
    assert float(pointed[0]) == pytest.approx(float(inside[0]) / 2)


def test_the_bonus_is_scaled_by_the_weight_and_the_question_length() -> None:
    one = bonus("orders")["orders"]
    assert one == pytest.approx((2 + 2) / 2)  # its name's word, and the whole name
    assert bonus("orders", weight=0.2)["orders"] == pytest.approx(0.2 * one)
    assert bonus("orders rating")["orders"] == pytest.approx(one / 2)


@pytest.mark.parametrize("question", ["", "the of and", "zebra"])
def test_no_matching_word_or_no_weight_gives_zeros(question: str) -> None:
    assert not np.any(lexical_bonus(question, name_words(SHOP), 1.0))
    assert not np.any(lexical_bonus("orders", name_words(SHOP), 0.0))
