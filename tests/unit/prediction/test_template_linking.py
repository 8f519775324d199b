"""Words and schema linking of the template generator."""

from __future__ import annotations

import numpy as np

from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.prediction.template.joins import JoinGraph
from chatdb_server.prediction.template.linking import build_phrases, link_by_embedding, link_names, link_values, merge
from chatdb_server.prediction.template.schema_index import build_index
from chatdb_server.prediction.template.words import name_words, singular, tokenize
from chatdb_server.retrieval.context import SchemaContext, TableInfo
from chatdb_server.sql.structure import JoinEdge
from tests.unit.prediction.template_fixtures import SHOP, STAFF, col

#: Two tables sharing a column name (``population``) and a key named alike in both (``type_code``).
PLACES = SchemaContext(
    tables=(
        TableInfo("city", (col("city_id", "INTEGER", pk=True), col("name"), col("country_code"),
                           col("population", "INTEGER"))),
        TableInfo("country", (col("code", pk=True), col("name"), col("population", "INTEGER"),
                              col("life_expectancy", "REAL"))),
        TableInfo("place_types", (col("place_type_code", pk=True), col("place_type_description"))),
        TableInfo("places", (col("place_id", "INTEGER", pk=True), col("place_type_code"), col("place_details"))),
    ),
    joins=(JoinEdge("city", ("country_code",), "country", ("code",)),
           JoinEdge("places", ("place_type_code",), "place_types", ("place_type_code",))),
)


def _first_sql(question: str, schema: SchemaContext) -> str:
    request = GenerationRequest(question, "sqlite", schema)  # type: ignore[arg-type]
    return TemplateGenerator().generate_sync(request).candidates[0].sql


def test_names_split_into_singular_words() -> None:
    assert name_words("order_items") == ("order", "item")
    assert name_words("HireDate") == ("hire", "date")
    assert name_words("GNPOld") == ("gnp", "old")
    assert name_words("DeptNo") == ("department", "number")
    assert name_words("Num_of_Ticket") == ("number", "of", "ticket")


def test_singular_forms() -> None:
    assert [singular(w) for w in ("countries", "addresses", "people", "ids", "status", "boxes", "cities")] == [
        "country", "address", "person", "id", "status", "box", "city"]


def test_quoted_phrases_and_numbers_are_single_tokens() -> None:
    tokens = tokenize('Show orders of "Desk Lamp" over 2.5 and two others')
    assert [t.text for t in tokens if t.quoted] == ["Desk Lamp"]
    assert [t.number for t in tokens if t.number is not None] == [2.5, 2.0]


def _mentions(question: str, schema=SHOP):  # type: ignore[no-untyped-def]
    index = build_index(schema)
    tokens = tokenize(question)
    return merge(link_names(tokens, index, build_phrases(index)), link_values(tokens, index))


def test_plural_and_multiword_names_link_to_tables_and_columns() -> None:
    mentions = _mentions("What is the unit price of order items?")
    linked = [(m.kind, m.best.table.name, m.best.column.name if m.best.column else None) for m in mentions]
    assert ("column", "order_items", "unit_price") in linked
    assert ("table", "order_items", None) in linked


def test_word_order_and_stop_words_do_not_break_a_match() -> None:
    mentions = _mentions("When was the date of hire of each employee?", STAFF)
    assert any(m.kind == "column" and m.best.column is not None and m.best.column.name == "HireDate"
               for m in mentions)


def test_sample_values_link_case_insensitively_and_quoted_values_stay_whole() -> None:
    mentions = _mentions("orders from customers in paris that bought 'Garden Hose'")
    values = [(m.text, m.best.column.name if m.targets and m.best.column else None)
              for m in mentions if m.kind == "value"]
    assert ("paris", "city") in values
    assert ("Garden Hose", "name") in values


def test_the_word_order_in_an_ordering_phrase_is_not_the_orders_table() -> None:
    mentions = _mentions("List products in descending order of price")
    assert all(m.best.table.name != "orders" for m in mentions if m.kind == "table")


def test_embedder_links_words_lexical_rules_miss() -> None:
    index = build_index(SHOP)
    tokens = tokenize("Show the cost of each item")
    lexical = link_names(tokens, index, build_phrases(index))
    columns = [c for t in index.tables for c in t.columns]

    def embed(texts: list[str]) -> np.ndarray:
        # A stand-in embedder with a known geometry: "cost" sits on top of "price".
        vectors = np.zeros((len(texts), len(columns) + 1), dtype=np.float32)
        for row, text in enumerate(texts):
            name = "price" if text == "cost" else text
            hits = [k for k, c in enumerate(columns) if " ".join(c.words) == name]
            vectors[row, hits[0] if hits else -1] = 1.0
        return vectors

    linked = link_by_embedding(tokens, lexical, index, embed, {})
    assert any(m.kind == "column" and m.best.column is not None and m.best.column.name == "price" for m in linked)


def test_join_graph_finds_shortest_path_and_infers_missing_edges() -> None:
    index = build_index(SHOP)
    graph = JoinGraph(index, SHOP)
    customers, products = index.table("customers"), index.table("products")
    assert customers is not None and products is not None
    path = graph.path([customers], products)
    assert path is not None and [e.right.name for e in path] == ["orders", "order_items", "products"]
    bare = build_index(STAFF)
    inferred = JoinGraph(bare, SchemaContext(tables=STAFF.tables))
    employees, departments = bare.table("Employees"), bare.table("Departments")
    assert employees is not None and departments is not None
    edge = inferred.direct(employees, departments)
    assert edge is not None and [c.name for c in edge.left_columns] == ["DeptNo"]


def test_a_column_name_two_tables_share_follows_the_other_columns_table() -> None:
    # "population" is a column of both tables; "life expectancy" only of countries: no join needed.
    assert _first_sql("What are the population and life expectancy?", PLACES) == (
        "SELECT population, life_expectancy FROM country")


def test_words_naming_a_key_name_its_namesake_in_the_table_asked_about() -> None:
    # "type code" is ``place_type_code`` of ``places`` by its own words; in ``place_types`` the table's
    # words leave only "code". The same column name in the table the question names is meant.
    assert _first_sql("What are the type codes and descriptions for all place types?", PLACES) == (
        "SELECT place_type_code, place_type_description FROM place_types")


#: Guests and galleries, where only the guests' key is called ``id``.
GALLERIES = SchemaContext(
    tables=(
        TableInfo("guests", (col("id", "INTEGER", pk=True), col("name"), col("age", "INTEGER"))),
        TableInfo("galleries", (col("gallery_id", "INTEGER", pk=True), col("name"))),
        TableInfo("tours", (col("guest_id", "INTEGER"), col("gallery_id", "INTEGER"))),
    ),
    joins=(JoinEdge("tours", ("guest_id",), "guests", ("id",)),
           JoinEdge("tours", ("gallery_id",), "galleries", ("gallery_id",))),
)


def test_a_table_after_a_list_of_columns_is_the_table_of_each() -> None:
    # "the id and name of the gallery": the gallery's key, not the guests' column called ``id``.
    sql = _first_sql("What are the id and name of the gallery with the most guests?", GALLERIES)
    assert sql.startswith("SELECT T1.gallery_id, T1.name FROM galleries AS T1")


#: A key on both sides of a join (``item_type_code``), sampled only where it is a foreign key.
ITEMS = SchemaContext(
    tables=(
        TableInfo("item_types", (col("item_type_code", pk=True),
                                 col("item_type_description", samples=("Book", "Advert")))),
        TableInfo("items", (col("item_id", "INTEGER", pk=True), col("item_name"),
                            col("item_type_code", samples=("AD", "BK")))),
    ),
    joins=(JoinEdge("items", ("item_type_code",), "item_types", ("item_type_code",)),),
)


def test_a_shared_key_and_its_value_are_read_in_the_table_the_other_names_need() -> None:
    # "AD" is sampled in ``items``, but the key holds the same values in ``item_types``: no join.
    assert _first_sql('What is the item type description when the item type code is "AD"?', ITEMS) == (
        "SELECT item_type_description FROM item_types WHERE item_type_code = 'AD'")
    assert _first_sql("How many items are there with item type code BK?", ITEMS) == (
        "SELECT COUNT(*) FROM items WHERE item_type_code = 'BK'")
    assert _first_sql("Show the item type codes and the number of items using each.", ITEMS) == (
        "SELECT item_type_code, COUNT(*) FROM items GROUP BY item_type_code")


def test_a_column_of_the_table_named_beside_a_word_holds_the_word() -> None:
    # "details" alone is too common to link to ``other_details`` by part; beside "note" it does,
    # rather than to the exact ``details`` of another table.
    notes = SchemaContext(
        tables=(TableInfo("notes", (col("note_id", "INTEGER", pk=True), col("note_text"), col("other_details"))),
                TableInfo("forms", (col("form_id", "INTEGER", pk=True), col("details"))),),
        joins=(),
    )
    assert _first_sql("Show the note details for the note with text 'Hello'.", notes) == (
        "SELECT other_details FROM notes WHERE note_text = 'Hello'")
    assert _first_sql("What are the details of all notes?", notes) == "SELECT other_details FROM notes"
