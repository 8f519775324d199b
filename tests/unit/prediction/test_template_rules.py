"""One case table per template rule: a question and a small schema → the SQL, with the rule fired.

The rules are declared in ``prediction/template/rules.py`` (mention roles) and
``prediction/template/outcomes.py`` (values, numbers, later passes, assembly). Each table below
pins what the generator answers today, so a change in a rule's matcher, edit or priority shows
up as a failing case of that rule. A case that pins a wrong answer says so; whether a change
is an improvement is judged by the accuracy benchmark (``python -m tests.bench.template_accuracy``).
"""

from __future__ import annotations

import pytest

from chatdb_server.errors import FailedPrecondition
from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.prediction.template import TemplateGenerator, vocabulary
from chatdb_server.prediction.template.builder import build_sql
from chatdb_server.prediction.template.joins import JoinGraph
from chatdb_server.prediction.template.linking import build_phrases, link_names, link_values, merge
from chatdb_server.prediction.template.outcomes import OUTCOME_NAMES, OUTCOMES
from chatdb_server.prediction.template.question import Choices
from chatdb_server.prediction.template.reader import Reader
from chatdb_server.prediction.template.rules import ALL_RULE_NAMES, COLUMN_RULES, TABLE_RULES, ordered
from chatdb_server.prediction.template.schema_index import build_index
from chatdb_server.prediction.template.words import tokenize
from chatdb_server.retrieval.context import SchemaContext, TableInfo
from chatdb_server.sql.structure import JoinEdge
from tests.unit.prediction.template_fixtures import SHOP, STAFF, col

#: Singers, concerts, stadiums (joined) and payments (joined to nothing).
CONCERTS = SchemaContext(
    tables=(
        TableInfo("singer", (
            col("singer_id", "INTEGER", pk=True), col("name"), col("country", samples=("France", "Netherlands")),
            col("age", "INTEGER"), col("birth_date", "DATE"), col("net_worth", "REAL"))),
        TableInfo("concert", (
            col("concert_id", "INTEGER", pk=True), col("concert_name"), col("theme"), col("stadium_id", "INTEGER"),
            col("year", "INTEGER"))),
        TableInfo("stadium", (
            col("stadium_id", "INTEGER", pk=True), col("name"), col("location"), col("capacity", "INTEGER"))),
        TableInfo("payments", (col("payment_id", "INTEGER", pk=True), col("amount", "REAL"), col("paid_on", "DATE"))),
    ),
    joins=(JoinEdge("concert", ("stadium_id",), "stadium", ("stadium_id",)),),
)

#: One table, numbers only.
ROOMS = SchemaContext(
    tables=(TableInfo("rooms", (col("room_id", "INTEGER", pk=True), col("beds", "INTEGER"),
                                col("floor", "INTEGER"))),),
    joins=(),
)

_GENERATOR = TemplateGenerator()


def answer(question: str, schema: SchemaContext) -> tuple[str, tuple[str, ...], str]:
    """The first candidate's SQL, rules and explanation."""
    candidate = _GENERATOR.generate_sync(GenerationRequest(question, "sqlite", schema)).candidates[0]  # type: ignore[arg-type]
    return candidate.sql, candidate.rules, candidate.explanation


def assert_rule(rule: str, question: str, schema: SchemaContext, sql: str) -> None:
    got_sql, rules, explanation = answer(question, schema)
    assert rule in rules, f"{rule} did not fire: {rules}"
    assert got_sql == sql
    assert f"Rules: {', '.join(rules)}." in explanation


def read_with(question: str, schema: SchemaContext, choices: Choices) -> tuple[str, list[str]]:
    """The SQL and rules of one alternative reading (the generator's ``Choices``)."""
    index = build_index(schema)
    graph = JoinGraph(index, schema)
    tokens = tokenize(question)
    mentions = merge(link_names(tokens, index, build_phrases(index)), link_values(tokens, index))
    plan = Reader(tokens, mentions, index, graph, choices).read()
    return build_sql(plan, graph, "sqlite"), plan.rules


# ---- the tables themselves -------------------------------------------------------------------------


def test_every_rule_is_declared_once_and_has_a_case_table() -> None:
    assert len(set(ALL_RULE_NAMES)) == len(ALL_RULE_NAMES)
    tables = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    assert set(ALL_RULE_NAMES) <= tables


def test_rule_tables_are_in_priority_order() -> None:
    for table in (COLUMN_RULES, TABLE_RULES):
        priorities = [r.priority for r in table]
        assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)
        assert table[-1].matches.__name__ == "<lambda>"  # the last rule is the catch-all
    with pytest.raises(ValueError, match="unique"):
        ordered(COLUMN_RULES[0], COLUMN_RULES[0])


def test_outcomes_name_their_costs() -> None:
    assert {o.name for o in OUTCOMES} == OUTCOME_NAMES
    assert all(o.cost >= 0 for o in OUTCOMES)
    assert {o.name for o in OUTCOMES if o.cost} >= {"label-columns", "value-not-placed", "only-table-assumed"}


def test_the_lexicon_is_data_files_read_once() -> None:
    for topic in ("words", "intents", "cues"):
        assert vocabulary.entry(topic, "_about")  # type: ignore[arg-type]
    assert "average" in vocabulary.word_set("intents", "aggregate_words")
    assert vocabulary.phrases("intents", "count_phrases")[0] == ("how", "many")


def test_a_rule_table_role_claims_each_mention_once() -> None:
    _, rules, _ = answer("How many customers are there?", SHOP)
    assert rules == ("count-table", "count-rows")


# ---- mention roles: columns, then tables; then values, numbers, passes and assembly -----------------

#: Alternative reading: "the maximum age" after a name as the row with the highest age.
AGGREGATE_AS_ROW = [
    pytest.param("Products maximum price", "SELECT name FROM products ORDER BY price DESC LIMIT 1",
                 id="products-maximum-price"),
    pytest.param("List orders, minimum total amount", "SELECT order_id FROM orders ORDER BY total_amount ASC LIMIT 1",
                 id="orders-minimum-total"),
    pytest.param("Show products and their max stock", "SELECT name FROM products ORDER BY stock DESC LIMIT 1",
                 id="products-max-stock"),
]


@pytest.mark.parametrize(("question", "sql"), AGGREGATE_AS_ROW)
def test_aggregate_as_row(question: str, sql: str) -> None:
    _, main_rules = read_with(question, SHOP, Choices())
    assert "aggregate-column" in main_rules and "aggregate-as-row" not in main_rules
    got_sql, rules = read_with(question, SHOP, Choices(aggregate_as_superlative=True))
    assert "aggregate-as-row" in rules
    assert got_sql == sql


#: "per city", "for each status", an aggregate's "by city": GROUP BY the column.
GROUP_BY_COLUMN = [
    pytest.param("How many concerts per year?", CONCERTS,
                 "SELECT year, COUNT(*) FROM concert GROUP BY year",
                 id="how-many-concerts-per-year"),
    pytest.param("How many customers are there in each city?", SHOP,
                 "SELECT city, COUNT(*) FROM customers GROUP BY city",
                 id="how-many-customers-are-there-in-each-cit"),
    pytest.param("Number of orders per status", SHOP,
                 "SELECT status, COUNT(*) FROM orders GROUP BY status",
                 id="number-of-orders-per-status"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), GROUP_BY_COLUMN)
def test_group_by_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("group-by-column", question, schema, sql)


#: "sorted by age", "the top 5 products by price": ORDER BY the column.
ORDER_BY_COLUMN = [
    pytest.param("Show singers in order of age", CONCERTS,
                 "SELECT name FROM singer ORDER BY age ASC",
                 id="show-singers-in-order-of-age"),
    pytest.param("List products sorted by price", SHOP,
                 "SELECT name FROM products ORDER BY price ASC",
                 id="list-products-sorted-by-price"),
    pytest.param("Products sorted by price ascending", SHOP,
                 "SELECT name FROM products ORDER BY price ASC",
                 id="products-sorted-by-price-ascending"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), ORDER_BY_COLUMN)
def test_order_by_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("order-by-column", question, schema, sql)


#: "the most common city": group by the column, order by the count, take one.
MOST_FREQUENT_VALUE = [
    pytest.param("What is the most common customer city?", SHOP,
                 "SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1",
                 id="table-named-between-the-cue-and-the-column"),
    pytest.param("What is the most common city of customers?", SHOP,
                 "SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1",
                 id="what-is-the-most-common-city-of-customer"),
    pytest.param("What is the least common status of orders?", SHOP,
                 "SELECT status FROM orders GROUP BY status ORDER BY COUNT(*) ASC LIMIT 1",
                 id="what-is-the-least-common-status-of-order"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), MOST_FREQUENT_VALUE)
def test_most_frequent_value(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("most-frequent-value", question, schema, sql)


#: "the singer with the highest age": ORDER BY the column, LIMIT 1.
ROW_WITH_EXTREME = [
    pytest.param("What are the names of products with the top 3 highest prices?", SHOP,
                 "SELECT name FROM products ORDER BY price DESC LIMIT 3",
                 id="number-between-the-link-and-the-extreme"),
    pytest.param("Show the names of the singers with the 2 lowest ages.", CONCERTS,
                 "SELECT name FROM singer ORDER BY age ASC LIMIT 2",
                 id="the-2-lowest-ages"),
    pytest.param("Which product has the lowest stock?", SHOP,
                 "SELECT name FROM products ORDER BY stock ASC LIMIT 1",
                 id="which-product-has-the-lowest-stock"),
    pytest.param("Which product has the highest price?", SHOP,
                 "SELECT name FROM products ORDER BY price DESC LIMIT 1",
                 id="which-product-has-the-highest-price"),
    pytest.param("Show the top 2 products with the highest price", SHOP,
                 "SELECT name FROM products ORDER BY price DESC LIMIT 2",
                 id="show-the-top-2-products-with-the-highest"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), ROW_WITH_EXTREME)
def test_row_with_extreme(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("row-with-extreme", question, schema, sql)


#: "the average age", "the highest price": SELECT AVG/MAX/... of the column.
AGGREGATE_COLUMN = [
    pytest.param("What is the average price of products?", SHOP,
                 "SELECT AVG(price) FROM products",
                 id="what-is-the-average-price-of-products"),
    pytest.param("What is the maximum capacity of stadiums?", CONCERTS,
                 "SELECT MAX(capacity) FROM stadium",
                 id="what-is-the-maximum-capacity-of-stadiums"),
    pytest.param("What is the maximum total amount of orders?", SHOP,
                 "SELECT MAX(total_amount) FROM orders",
                 id="what-is-the-maximum-total-amount-of-orde"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), AGGREGATE_COLUMN)
def test_aggregate_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("aggregate-column", question, schema, sql)


#: "how many different cities": COUNT(DISTINCT column).
COUNT_DISTINCT_COLUMN = [
    pytest.param("How many distinct categories are there for products?", SHOP,
                 "SELECT COUNT(DISTINCT category) FROM products",
                 id="how-many-distinct-categories-are-there-f"),
    pytest.param("How many unique countries are customers from?", SHOP,
                 "SELECT COUNT(DISTINCT country) FROM customers",
                 id="how-many-unique-countries-are-customers-"),
    pytest.param("How many different cities do customers live in?", SHOP,
                 "SELECT COUNT(DISTINCT city) FROM customers",
                 id="how-many-different-cities-do-customers-l"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COUNT_DISTINCT_COLUMN)
def test_count_distinct_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("count-distinct-column", question, schema, sql)


#: "how many seats ..." with a numeric column ``seats``: the column holds the answer.
HOW_MANY_FROM_COLUMN = [
    pytest.param("How many beds are there?", ROOMS,
                 "SELECT beds FROM rooms",
                 id="how-many-beds-are-there"),
    pytest.param("How many are there on floor 2?", ROOMS,
                 "SELECT floor FROM rooms WHERE floor = 2",
                 id="how-many-are-there-on-floor-2"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), HOW_MANY_FROM_COLUMN)
def test_how_many_from_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("how-many-from-column", question, schema, sql)


#: "how many singer names": COUNT(*) of the column's table.
COUNT_ROWS_OF_COLUMN = [
    pytest.param("How many emails are there?", SHOP,
                 "SELECT COUNT(*) FROM customers",
                 id="how-many-emails-are-there"),
    pytest.param("How many cities are there?", SHOP,
                 "SELECT COUNT(*) FROM customers",
                 id="how-many-cities-are-there"),
    pytest.param("Count the number of first names", SHOP,
                 "SELECT COUNT(*) FROM customers",
                 id="count-the-number-of-first-names"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COUNT_ROWS_OF_COLUMN)
def test_count_rows_of_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("count-rows-of-column", question, schema, sql)


#: "whose country is France": the column is the value's filter, read with the value.
COLUMN_BEFORE_VALUE = [
    pytest.param("Products whose category is garden", SHOP,
                 "SELECT name FROM products WHERE category = 'garden'",
                 id="products-whose-category-is-garden"),
    pytest.param("List orders whose status is pending", SHOP,
                 "SELECT order_id FROM orders WHERE status = 'pending'",
                 id="list-orders-whose-status-is-pending"),
    pytest.param("Show customers whose country is France", SHOP,
                 "SELECT first_name, last_name FROM customers WHERE country = 'France'",
                 id="show-customers-whose-country-is-france"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COLUMN_BEFORE_VALUE)
def test_column_before_value(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("column-before-value", question, schema, sql)


#: "the names and ages of singers": SELECT the column (summed when called a total and grouped).
SELECT_COLUMN = [
    pytest.param("Show names of singers and concerts", CONCERTS,
                 "SELECT name FROM singer",
                 id="show-names-of-singers-and-concerts"),
    pytest.param("Show singer names in stadiums", CONCERTS,
                 "SELECT name FROM singer",
                 id="show-singer-names-in-stadiums"),
    pytest.param("What are the emails of customers?", SHOP,
                 "SELECT email FROM customers",
                 id="what-are-the-emails-of-customers"),
    pytest.param("Sort the products by price in descending order, and return the name, category and stock of each "
                 "product.", SHOP,
                 "SELECT name, category, stock FROM products ORDER BY price DESC",
                 id="a-request-made-again-after-the-ordering"),
    pytest.param("Which customer placed the most orders? Give me the customer email.", SHOP,
                 "SELECT T1.email FROM customers AS T1 JOIN orders AS T2 ON T1.customer_id = T2.customer_id "
                 "GROUP BY T1.email ORDER BY COUNT(*) DESC LIMIT 1",
                 id="a-request-in-a-second-sentence-over-the-columns-own-table"),
    pytest.param("What is the category of the product Desk Lamp and what is its price?", SHOP,
                 "SELECT category, price FROM products WHERE name = 'Desk Lamp'",
                 id="a-second-question-after-the-condition"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), SELECT_COLUMN)
def test_select_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("select-column", question, schema, sql)


#: A column named among the conditions: its table joins the query.
CONTEXT_COLUMN = [
    pytest.param("List the names of products with a price above 20 and the category of each", SHOP,
                 "SELECT name FROM products WHERE price > 20",
                 id="list-the-names-of-products-with-a-price-"),
    pytest.param("Products with price above 30", SHOP,
                 "SELECT name FROM products WHERE price > 30",
                 id="products-with-price-above-30"),
    pytest.param("Products with stock at least 10", SHOP,
                 "SELECT name FROM products WHERE stock >= 10",
                 id="products-with-stock-at-least-10"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), CONTEXT_COLUMN)
def test_context_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("context-column", question, schema, sql)


#: "how many singers": COUNT(*) FROM the table.
COUNT_TABLE = [
    pytest.param("Count the orders", SHOP,
                 "SELECT COUNT(*) FROM orders",
                 id="count-the-orders"),
    pytest.param("How many customers are there?", SHOP,
                 "SELECT COUNT(*) FROM customers",
                 id="how-many-customers-are-there"),
    pytest.param("Count the product names", SHOP,
                 "SELECT COUNT(*) FROM products",
                 id="count-the-product-names"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COUNT_TABLE)
def test_count_table(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("count-table", question, schema, sql)


#: "customers with no orders": rows with no related row (NOT IN).
NEGATED_TABLE = [
    pytest.param("Singers with no stadium", CONCERTS,
                 "SELECT name FROM singer",
                 id="singers-with-no-stadium"),
    pytest.param("Singers without concerts", CONCERTS,
                 "SELECT name FROM singer",
                 id="singers-without-concerts"),
    pytest.param("Show payments without stadiums", CONCERTS,
                 "SELECT payment_id FROM payments",
                 id="show-payments-without-stadiums"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), NEGATED_TABLE)
def test_negated_table(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("negated-table", question, schema, sql)


#: "the sum of payments": the aggregate of the table's one measure column.
AGGREGATE_OF_TABLE = [
    pytest.param("What is the sum of payments?", CONCERTS,
                 "SELECT SUM(amount) FROM payments",
                 id="what-is-the-sum-of-payments"),
    pytest.param("What is the average payment?", CONCERTS,
                 "SELECT AVG(amount) FROM payments",
                 id="what-is-the-average-payment"),
    pytest.param("What is the maximum payment?", CONCERTS,
                 "SELECT MAX(amount) FROM payments",
                 id="what-is-the-maximum-payment"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), AGGREGATE_OF_TABLE)
def test_aggregate_of_table(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("aggregate-of-table", question, schema, sql)


#: "for each customer": GROUP BY the table's key and labels.
GROUP_BY_TABLE = [
    pytest.param("Average salary per department", STAFF,
                 "SELECT T2.DeptName, AVG(T1.Salary) FROM Employees AS T1 JOIN Departments AS T2 ON "
                 "T1.DeptNo = T2.DeptNo GROUP BY T2.DeptNo, T2.DeptName",
                 id="average-salary-per-department"),
    pytest.param("Show the number of orders for each customer", SHOP,
                 "SELECT T2.first_name, T2.last_name, COUNT(*) FROM orders AS T1 JOIN customers AS T2 ON "
                 "T1.customer_id = T2.customer_id GROUP BY T2.customer_id, T2.first_name, T2.last_name",
                 id="show-the-number-of-orders-for-each-custo"),
    pytest.param("What is the total amount for each customer?", SHOP,
                 "SELECT T2.first_name, T2.last_name, SUM(T1.total_amount) FROM orders AS T1 JOIN "
                 "customers AS T2 ON T1.customer_id = T2.customer_id GROUP BY T2.customer_id, "
                 "T2.first_name, T2.last_name",
                 id="what-is-the-total-amount-for-each-custom"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), GROUP_BY_TABLE)
def test_group_by_table(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("group-by-table", question, schema, sql)


#: "the customer with the most orders": order by the count of related rows.
MOST_RELATED_ROWS = [
    pytest.param("Which city has the most customers?", SHOP,
                 "SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1",
                 id="which-city-has-the-most-customers"),
    pytest.param("Which category is the most frequent among products?", SHOP,
                 "SELECT category FROM products GROUP BY category ORDER BY COUNT(*) DESC LIMIT 1",
                 id="which-category-is-the-most-frequent-amon"),
    pytest.param("Which stadium has the most concerts?", CONCERTS,
                 "SELECT T1.name FROM stadium AS T1 JOIN concert AS T2 ON T1.stadium_id = T2.stadium_id "
                 "GROUP BY T1.stadium_id, T1.name ORDER BY COUNT(*) DESC LIMIT 1",
                 id="which-stadium-has-the-most-concerts"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), MOST_RELATED_ROWS)
def test_most_related_rows(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("most-related-rows", question, schema, sql)


#: "list the singers": the table asked for.
SELECT_TABLE = [
    pytest.param("Show everything about orders", SHOP,
                 "SELECT * FROM orders",
                 id="show-everything-about-orders"),
    pytest.param("List all details of products", SHOP,
                 "SELECT * FROM products",
                 id="list-all-details-of-products"),
    pytest.param("Show all information about customers", SHOP,
                 "SELECT * FROM customers",
                 id="show-all-information-about-customers"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), SELECT_TABLE)
def test_select_table(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("select-table", question, schema, sql)


#: "the names of conductors and the orchestras": the second table's label columns are asked for too.
ANOTHER_TABLE_ASKED = [
    pytest.param("Show the emails of customers and the products they ordered.", SHOP,
                 "SELECT T1.email, T4.name FROM customers AS T1 JOIN orders AS T2 ON T1.customer_id = T2.customer_id "
                 "JOIN order_items AS T3 ON T2.order_id = T3.order_id "
                 "JOIN products AS T4 ON T3.product_id = T4.product_id",
                 id="emails-of-customers-and-the-products"),
    pytest.param("Show the emails of customers and the product prices.", SHOP,
                 "SELECT T1.email, T4.price FROM customers AS T1 JOIN orders AS T2 ON T1.customer_id = T2.customer_id "
                 "JOIN order_items AS T3 ON T2.order_id = T3.order_id "
                 "JOIN products AS T4 ON T3.product_id = T4.product_id",
                 id="a-column-of-the-second-table-is-named-so-no-label-is-added"),
    pytest.param("Show the names of singers and the concerts they sang in.", CONCERTS,
                 "SELECT name FROM singer",
                 id="no-join-reaches-the-second-table-its-label-is-not-shown"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), ANOTHER_TABLE_ASKED)
def test_another_table_asked(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("another-table-asked", question, schema, sql)


#: A table named among the conditions: it joins the query.
CONTEXT_TABLE = [
    pytest.param("What is the total quantity of order items?", SHOP,
                 "SELECT SUM(quantity) FROM order_items",
                 id="what-is-the-total-quantity-of-order-item"),
    pytest.param("List the first 5 customers", SHOP,
                 "SELECT first_name FROM customers LIMIT 5",
                 id="list-the-first-5-customers"),
    pytest.param("Name of the youngest singer", CONCERTS,
                 "SELECT name FROM singer ORDER BY age ASC LIMIT 1",
                 id="name-of-the-youngest-singer"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), CONTEXT_TABLE)
def test_context_table(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("context-table", question, schema, sql)


#: A value names its column: WHERE column = 'value' (or != when negated).
FILTER_BY_VALUE = [
    pytest.param("List singers not from France", CONCERTS,
                 "SELECT name FROM singer WHERE country <> 'France'",
                 id="list-singers-not-from-france"),
    pytest.param("Products whose category is garden", SHOP,
                 "SELECT name FROM products WHERE category = 'garden'",
                 id="products-whose-category-is-garden"),
    pytest.param("List orders whose status is pending", SHOP,
                 "SELECT order_id FROM orders WHERE status = 'pending'",
                 id="list-orders-whose-status-is-pending"),
    pytest.param("Show the products that do not have the category garden.", SHOP,
                 "SELECT name FROM products WHERE category <> 'garden'",
                 id="negation-before-the-values-column"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), FILTER_BY_VALUE)
def test_filter_by_value(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("filter-by-value", question, schema, sql)


#: "containing the word X": WHERE column LIKE '%X%'.
FILTER_LIKE_VALUE = [
    pytest.param('List products whose category includes "gar"', SHOP,
                 "SELECT name FROM products WHERE name LIKE '%gar%'",
                 id="list-products-whose-category-includes-ga"),
    pytest.param('List products whose name contains "Chess"', SHOP,
                 "SELECT name FROM products WHERE name LIKE '%Chess%'",
                 id="list-products-whose-name-contains-chess"),
    pytest.param('Show customers whose email contains "example"', SHOP,
                 "SELECT first_name, last_name FROM customers WHERE first_name LIKE '%example%'",
                 id="show-customers-whose-email-contains-exam"),
    pytest.param("What are the remarks of the incidents which have the substring 'late'?", SchemaContext(
        tables=(TableInfo("incidents", (col("incident_id", "INTEGER", pk=True), col("remark"),
                                        col("victims", "INTEGER"))),),
        joins=()),
                 "SELECT remark FROM incidents WHERE remark LIKE '%late%'",
                 id="a-searched-text-with-no-column-named-is-searched-in-the-column-asked-for"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), FILTER_LIKE_VALUE)
def test_filter_like_value(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("filter-like-value", question, schema, sql)


#: "countries that do not speak English": the value is a NOT IN condition.
NEGATED_VALUE = [
    pytest.param("Show orders of customers not from France", SHOP,
                 "SELECT order_id FROM orders WHERE NOT customer_id IN (SELECT customer_id FROM customers "
                 "WHERE country = 'France')",
                 id="show-orders-of-customers-not-from-france"),
    pytest.param("Show orders of customers not from Germany", SHOP,
                 "SELECT order_id FROM orders WHERE NOT customer_id IN (SELECT customer_id FROM customers "
                 "WHERE country = 'Germany')",
                 id="show-orders-of-customers-not-from-german"),
    pytest.param("List products of orders not shipped", SHOP,
                 "SELECT name FROM products WHERE NOT product_id IN (SELECT T1.product_id FROM order_items "
                 "AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id WHERE T2.status = 'shipped')",
                 id="list-products-of-orders-not-shipped"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), NEGATED_VALUE)
def test_negated_value(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("negated-value", question, schema, sql)


#: Two values of one column, or values joined by "or": conditions are OR-ed.
EITHER_VALUE = [
    pytest.param("Products in the garden category and the toys category", SHOP,
                 "SELECT name FROM products WHERE category = 'garden' OR category = 'toys'",
                 id="products-in-the-garden-category-and-the-"),
    pytest.param("List customers from Paris or Berlin", SHOP,
                 "SELECT first_name, last_name FROM customers WHERE city = 'Paris' OR city = 'Berlin'",
                 id="list-customers-from-paris-or-berlin"),
    pytest.param("Show customers from France or Germany", SHOP,
                 "SELECT first_name, last_name FROM customers WHERE country = 'France' OR country = "
                 "'Germany'",
                 id="show-customers-from-france-or-germany"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), EITHER_VALUE)
def test_either_value(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("either-value", question, schema, sql)


#: A value no column could hold: dropped.
VALUE_NOT_PLACED = [
    pytest.param('Show orders with "Zebra"', SHOP,
                 "SELECT order_id FROM orders",
                 id="show-orders-with-zebra"),
    pytest.param('Orders with "Zebra"', SHOP,
                 "SELECT order_id FROM orders",
                 id="orders-with-zebra"),
    pytest.param('List order items with "Nothing"', SHOP,
                 "SELECT order_item_id FROM order_items",
                 id="list-order-items-with-nothing"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), VALUE_NOT_PLACED)
def test_value_not_placed(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("value-not-placed", question, schema, sql)


#: Rows labelled by another table's key (a country code): named by that table's label.
LANGUAGES = SchemaContext(
    tables=(TableInfo("country", (col("code", pk=True), col("name"), col("continent"))),
            TableInfo("spoken_language", (col("country_code", pk=True), col("language", pk=True),
                                          col("percentage", "REAL")))),
    joins=(JoinEdge("spoken_language", ("country_code",), "country", ("code",)),),
)


def test_count_distinct_of_a_composite_keys_named_part() -> None:
    # "language" is part of the composite key, but no id or code: its values are counted; the code is not.
    keyed = SchemaContext(tables=(TableInfo("country_language", (
        col("country_code", pk=True), col("language", pk=True), col("is_official"))),), joins=())
    assert answer("How many different languages are there?", keyed)[:2] == (
        "SELECT COUNT(DISTINCT language) FROM country_language", ("count-distinct-column",))
    assert answer("How many different country codes are there?", keyed)[0] == "SELECT COUNT(*) FROM country_language"


#: "in Brazil": capitalised words no sample value holds, compared with the column named before them,
#: else with the label of the table asked about (which may come after them).
CAPITALISED_VALUE = [
    pytest.param("What is the age of the singer Adele?", CONCERTS,
                 "SELECT age FROM singer WHERE name = 'Adele'",
                 id="table-named-before-the-name"),
    pytest.param("Which country is Adele from?", CONCERTS,
                 "SELECT country FROM singer WHERE name = 'Adele'",
                 id="asked-column-is-not-the-names-column"),
    pytest.param("List the singers whose country is Japan", CONCERTS,
                 "SELECT name FROM singer WHERE country = 'Japan'",
                 id="condition-column-before-the-name"),
    pytest.param("Give me Adele's age.", CONCERTS,
                 "SELECT age FROM singer WHERE name = 'Adele'",
                 id="name-before-what-it-filters"),
    pytest.param("What is the email of Anna?", SHOP,
                 "SELECT email FROM customers WHERE first_name = 'Anna'",
                 id="label-of-the-asked-columns-table"),
    pytest.param("How many languages are spoken in Peru?", LANGUAGES,
                 "SELECT COUNT(*) FROM spoken_language AS T1 JOIN country AS T2 ON T1.country_code = T2.code "
                 "WHERE T2.name = 'Peru'",
                 id="rows-labelled-by-a-key-named-by-its-tables-label"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), CAPITALISED_VALUE)
def test_capitalised_value(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("capitalised-value", question, schema, sql)


def test_a_capitalised_sentence_start_is_no_value() -> None:
    sql, rules, _ = answer("List products sorted by price. Show their names.", SHOP)
    assert "capitalised-value" not in rules and "WHERE" not in sql


def test_a_capitalised_name_alone_grounds_nothing() -> None:
    with pytest.raises(FailedPrecondition, match="mentions nothing this schema knows"):
        answer("What is the weather like on Mars tomorrow?", SHOP)


#: "how many different templates do documents use": COUNT(DISTINCT key) of the counted table across its join.
COUNT_DISTINCT_JOINED = [
    pytest.param("How many different customers placed orders?", SHOP,
                 "SELECT COUNT(DISTINCT T1.customer_id) FROM customers AS T1 "
                 "JOIN orders AS T2 ON T1.customer_id = T2.customer_id",
                 id="different-customers-with-orders"),
    pytest.param("How many different stadiums have concerts?", CONCERTS,
                 "SELECT COUNT(DISTINCT T1.stadium_id) FROM stadium AS T1 "
                 "JOIN concert AS T2 ON T1.stadium_id = T2.stadium_id",
                 id="different-stadiums-with-concerts"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COUNT_DISTINCT_JOINED)
def test_count_distinct_joined(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("count-distinct-joined", question, schema, sql)


def test_a_count_without_different_counts_join_rows() -> None:
    sql, rules, _ = answer("How many customers placed orders?", SHOP)
    assert "count-distinct-joined" not in rules and sql.startswith("SELECT COUNT(*)")


#: "forms whose average life expectancy is above 72", grouped: HAVING AVG(column) > 72.
HAVING_AGGREGATE = [
    pytest.param("Show each category and its total stock for categories whose average price is above 20.", SHOP,
                 "SELECT SUM(stock), category FROM products GROUP BY category HAVING AVG(price) > 20",
                 id="grouped-by-each"),
    pytest.param("For each country, what is the maximum age of singers whose average net worth is more than 1000?",
                 CONCERTS, "SELECT country, MAX(age) FROM singer GROUP BY country HAVING AVG(net_worth) > 1000",
                 id="for-each-country"),
    pytest.param("Which categories have an average price greater than 20?", SHOP,
                 "SELECT category FROM products GROUP BY category HAVING AVG(price) > 20",
                 id="plain-column-beside-the-aggregate"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), HAVING_AGGREGATE)
def test_having_aggregate(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("having-aggregate", question, schema, sql)


def test_an_ungrouped_comparison_filters_rows() -> None:
    sql, rules, _ = answer("What is the average price of products whose stock is above 5?", SHOP)
    assert "having-aggregate" not in rules and sql == "SELECT AVG(price) FROM products WHERE stock > 5"


#: "the top 3", "the 5 oldest": LIMIT N.
TOP_N = [
    pytest.param("List the first 5 customers", SHOP,
                 "SELECT first_name FROM customers LIMIT 5",
                 id="list-the-first-5-customers"),
    pytest.param("Show the top 3 products by price", SHOP,
                 "SELECT name FROM products ORDER BY price DESC LIMIT 3",
                 id="show-the-top-3-products-by-price"),
    pytest.param("Show the top 2 products with the highest price", SHOP,
                 "SELECT name FROM products ORDER BY price DESC LIMIT 2",
                 id="show-the-top-2-products-with-the-highest"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), TOP_N)
def test_top_n(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("top-n", question, schema, sql)


#: "which 3 customers ...": LIMIT N.
FIRST_N_ROWS = [
    pytest.param("Show 3 products", SHOP,
                 "SELECT name FROM products LIMIT 3",
                 id="show-3-products"),
    pytest.param("List 2 customers", SHOP,
                 "SELECT first_name, last_name FROM customers LIMIT 2",
                 id="list-2-customers"),
    pytest.param("Which 3 products are cheapest?", SHOP,
                 "SELECT name FROM products ORDER BY price ASC LIMIT 3",
                 id="which-3-products-are-cheapest"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), FIRST_N_ROWS)
def test_first_n_rows(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("first-n-rows", question, schema, sql)


#: "with between 2 and 5 orders": HAVING COUNT(*) BETWEEN.
COUNT_BETWEEN = [
    pytest.param("Stadiums with between 1 and 3 concerts", CONCERTS,
                 "SELECT T1.name FROM stadium AS T1 JOIN concert AS T2 ON T1.stadium_id = T2.stadium_id "
                 "GROUP BY T1.stadium_id, T1.name HAVING COUNT(*) BETWEEN 1 AND 3",
                 id="stadiums-with-between-1-and-3-concerts"),
    pytest.param("Which stadiums have between 2 and 4 concerts?", CONCERTS,
                 "SELECT T1.name FROM stadium AS T1 JOIN concert AS T2 ON T1.stadium_id = T2.stadium_id "
                 "GROUP BY T1.stadium_id, T1.name HAVING COUNT(*) BETWEEN 2 AND 4",
                 id="which-stadiums-have-between-2-and-4-conc"),
    pytest.param("Show customers with between 2 and 5 orders", SHOP,
                 "SELECT T1.first_name, T1.last_name FROM customers AS T1 JOIN orders AS T2 ON "
                 "T1.customer_id = T2.customer_id GROUP BY T1.customer_id, T1.first_name, T1.last_name "
                 "HAVING COUNT(*) BETWEEN 2 AND 5",
                 id="show-customers-with-between-2-and-5-orde"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COUNT_BETWEEN)
def test_count_between(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("count-between", question, schema, sql)


#: "price between 10 and 20": WHERE column BETWEEN.
NUMBER_BETWEEN = [
    pytest.param("Products with a price between 10 and 50", SHOP,
                 "SELECT name FROM products WHERE price BETWEEN 10 AND 50",
                 id="products-with-a-price-between-10-and-50"),
    pytest.param("Orders with a total amount between 50 and 100", SHOP,
                 "SELECT order_id FROM orders WHERE total_amount BETWEEN 50 AND 100",
                 id="orders-with-a-total-amount-between-50-an"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), NUMBER_BETWEEN)
def test_number_between(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("number-between", question, schema, sql)


#: "with more than 2 orchestras": HAVING COUNT(*) compared.
HAVING_COUNT = [
    pytest.param("Customers with more than 1 orders", SHOP,
                 "SELECT T1.first_name, T1.last_name FROM customers AS T1 JOIN orders AS T2 ON "
                 "T1.customer_id = T2.customer_id GROUP BY T1.customer_id, T1.first_name, T1.last_name "
                 "HAVING COUNT(*) > 1",
                 id="customers-with-more-than-1-orders"),
    pytest.param("Customers with fewer than 3 orders", SHOP,
                 "SELECT T1.first_name, T1.last_name FROM customers AS T1 JOIN orders AS T2 ON "
                 "T1.customer_id = T2.customer_id GROUP BY T1.customer_id, T1.first_name, T1.last_name "
                 "HAVING COUNT(*) < 3",
                 id="customers-with-fewer-than-3-orders"),
    pytest.param("Show customers with at least 2 orders", SHOP,
                 "SELECT T1.first_name, T1.last_name FROM customers AS T1 JOIN orders AS T2 ON "
                 "T1.customer_id = T2.customer_id GROUP BY T1.customer_id, T1.first_name, T1.last_name "
                 "HAVING COUNT(*) >= 2",
                 id="show-customers-with-at-least-2-orders"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), HAVING_COUNT)
def test_having_count(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("having-count", question, schema, sql)


#: "older than 30", "in 2014": WHERE column compared with the number.
COMPARE_NUMBER = [
    pytest.param("Which customers placed an order in 2020?", SHOP,
                 "SELECT T1.first_name, T1.last_name FROM customers AS T1 JOIN orders AS T2 "
                 "ON T1.customer_id = T2.customer_id "
                 "WHERE T2.order_date >= '2020-01-01' AND T2.order_date < '2021-01-01'",
                 id="a-year-goes-with-the-table-named-last"),
    pytest.param("Names of singers younger than 40", CONCERTS,
                 "SELECT name FROM singer WHERE age < 40",
                 id="names-of-singers-younger-than-40"),
    pytest.param("How many are there on floor 2?", ROOMS,
                 "SELECT floor FROM rooms WHERE floor = 2",
                 id="how-many-are-there-on-floor-2"),
    pytest.param("List the names of products with a price above 20 and the category of each", SHOP,
                 "SELECT name FROM products WHERE price > 20",
                 id="list-the-names-of-products-with-a-price-"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COMPARE_NUMBER)
def test_compare_number(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("compare-number", question, schema, sql)


#: A compared number no numeric column could hold: dropped.
NUMBER_NOT_PLACED = [
    pytest.param("Products costing more than 1000000 zorbas", SHOP,
                 "SELECT name FROM products",
                 id="products-costing-more-than-1000000-zorba"),
    pytest.param("Customers older than 30", SHOP,
                 "SELECT first_name, last_name FROM customers",
                 id="customers-older-than-30"),
    pytest.param("Products with a price of more than 20 widgets and 7 gizmos over 9", SHOP,
                 "SELECT name FROM products WHERE price > 20 AND price = 7",
                 id="products-with-a-price-of-more-than-20-wi"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), NUMBER_NOT_PLACED)
def test_number_not_placed(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("number-not-placed", question, schema, sql)


#: "above the average age": column > (SELECT AVG(column) ...).
COMPARE_WITH_AVERAGE = [
    pytest.param("Which products have a price above the average price?", SHOP,
                 "SELECT name FROM products WHERE price > (SELECT AVG(price) FROM products)",
                 id="which-products-have-a-price-above-the-av"),
    pytest.param("Products whose stock is higher than average stock", SHOP,
                 "SELECT name FROM products WHERE stock > (SELECT AVG(stock) FROM products)",
                 id="products-whose-stock-is-higher-than-aver"),
    pytest.param("Show the name of singers with net worth above the average", CONCERTS,
                 "SELECT name FROM singer WHERE net_worth > (SELECT AVG(net_worth) FROM singer)",
                 id="show-the-name-of-singers-with-net-worth-"),
    pytest.param("Which players are older than average?", SchemaContext(
        tables=(TableInfo("players", (col("player_id", "INTEGER", pk=True), col("name"), col("age", "INTEGER"),
                                      col("team_id", "INTEGER"))),
                TableInfo("teams", (col("team_id", "INTEGER", pk=True), col("name"), col("average", "REAL")))),
        joins=(JoinEdge("players", ("team_id",), "teams", ("team_id",)),)),
                 "SELECT name FROM players WHERE age > (SELECT AVG(age) FROM players)",
                 id="than-average-joins-no-table-with-a-column-called-average"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COMPARE_WITH_AVERAGE)
def test_compare_with_average(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("compare-with-average", question, schema, sql)


#: "the oldest dog": ORDER BY the implied column, LIMIT 1.
def test_a_superlative_word_inside_a_name_implies_nothing() -> None:
    runners = SchemaContext(tables=(TableInfo("runner", (
        col("runner_id", "INTEGER", pk=True), col("name"), col("best_time", "REAL"), col("rank", "INTEGER"))),),
        joins=())
    sql, rules, _ = answer("What are the names and best times of all runners?", runners)
    assert "implied-superlative" not in rules and sql == "SELECT name, best_time FROM runner"


#: "the record formats, sorted by their frequency": GROUP BY what is shown, ORDER BY COUNT(*).
ORDER_BY_FREQUENCY = [
    pytest.param("List the product categories sorted by their frequency.", SHOP,
                 "SELECT category FROM products GROUP BY category ORDER BY COUNT(*) ASC",
                 id="sorted-by-frequency"),
    pytest.param("Show the cities of customers in descending order of count.", SHOP,
                 "SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC",
                 id="descending-order-of-count"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), ORDER_BY_FREQUENCY)
def test_order_by_frequency(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("order-by-frequency", question, schema, sql)


IMPLIED_SUPERLATIVE = [
    pytest.param("Name of the youngest singer", CONCERTS,
                 "SELECT name FROM singer ORDER BY age ASC LIMIT 1",
                 id="name-of-the-youngest-singer"),
    pytest.param("Who is the oldest singer?", CONCERTS,
                 "SELECT name FROM singer ORDER BY age DESC LIMIT 1",
                 id="who-is-the-oldest-singer"),
    pytest.param("Which 3 products are cheapest?", SHOP,
                 "SELECT name FROM products ORDER BY price ASC LIMIT 3",
                 id="which-3-products-are-cheapest"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), IMPLIED_SUPERLATIVE)
def test_implied_superlative(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("implied-superlative", question, schema, sql)


#: "revenue per month": GROUP BY the month of a date column.
GROUP_BY_PERIOD = [
    pytest.param("Payments per month", CONCERTS,
                 "SELECT STRFTIME('%Y-%m', paid_on) FROM payments GROUP BY STRFTIME('%Y-%m', paid_on) "
                 "ORDER BY STRFTIME('%Y-%m', paid_on) ASC",
                 id="payments-per-month"),
    pytest.param("Number of orders per year", SHOP,
                 "SELECT STRFTIME('%Y', order_date), COUNT(*) FROM orders GROUP BY STRFTIME('%Y', "
                 "order_date) ORDER BY STRFTIME('%Y', order_date) ASC",
                 id="number-of-orders-per-year"),
    pytest.param("Revenue per month", SHOP,
                 "SELECT STRFTIME('%Y-%m', order_date), SUM(total_amount) FROM orders GROUP BY "
                 "STRFTIME('%Y-%m', order_date) ORDER BY STRFTIME('%Y-%m', order_date) ASC",
                 id="revenue-per-month"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), GROUP_BY_PERIOD)
def test_group_by_period(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("group-by-period", question, schema, sql)


#: "per month" with no date column: not grouped.
NO_DATE_COLUMN = [
    pytest.param("Count the rooms per month", ROOMS,
                 "SELECT COUNT(*) FROM rooms GROUP BY room_id",
                 id="count-the-rooms-per-month"),
    pytest.param("Number of concerts per month", CONCERTS,
                 "SELECT COUNT(*) FROM concert GROUP BY concert_id, concert_name",
                 id="number-of-concerts-per-month"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), NO_DATE_COLUMN)
def test_no_date_column(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("no-date-column", question, schema, sql)


#: No table named: the schema's only table is read.
ONLY_TABLE_ASSUMED = [
    pytest.param("How many?", ROOMS,
                 "SELECT room_id FROM rooms",
                 id="how-many"),
    pytest.param("How many are there?", ROOMS,
                 "SELECT room_id FROM rooms",
                 id="how-many-are-there"),
    pytest.param("Count them", ROOMS,
                 "SELECT room_id FROM rooms",
                 id="count-them"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), ONLY_TABLE_ASSUMED)
def test_only_table_assumed(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("only-table-assumed", question, schema, sql)


#: SELECT COUNT(*) of the subject.
COUNT_ROWS = [
    pytest.param("Count the orders", SHOP,
                 "SELECT COUNT(*) FROM orders",
                 id="count-the-orders"),
    pytest.param("How many customers are there?", SHOP,
                 "SELECT COUNT(*) FROM customers",
                 id="how-many-customers-are-there"),
    pytest.param("How many emails are there?", SHOP,
                 "SELECT COUNT(*) FROM customers",
                 id="how-many-emails-are-there"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), COUNT_ROWS)
def test_count_rows(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("count-rows", question, schema, sql)


#: A HAVING, count order or aggregate sort key needs a GROUP BY nobody named.
IMPLICIT_GROUPING = [
    pytest.param("Count the rooms per month", ROOMS,
                 "SELECT COUNT(*) FROM rooms GROUP BY room_id",
                 id="count-the-rooms-per-month"),
    pytest.param("Number of concerts per month", CONCERTS,
                 "SELECT COUNT(*) FROM concert GROUP BY concert_id, concert_name",
                 id="number-of-concerts-per-month"),
    pytest.param("Which city has the most customers?", SHOP,
                 "SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1",
                 id="which-city-has-the-most-customers"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), IMPLICIT_GROUPING)
def test_implicit_grouping(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("implicit-grouping", question, schema, sql)


#: "all the information": SELECT *.
ALL_COLUMNS = [
    pytest.param("Show everything about orders", SHOP,
                 "SELECT * FROM orders",
                 id="show-everything-about-orders"),
    pytest.param("List all details of products", SHOP,
                 "SELECT * FROM products",
                 id="list-all-details-of-products"),
    pytest.param("Show all information about customers", SHOP,
                 "SELECT * FROM customers",
                 id="show-all-information-about-customers"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), ALL_COLUMNS)
def test_all_columns(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("all-columns", question, schema, sql)


#: Nothing asked for by name: the subject's label columns.
LABEL_COLUMNS = [
    pytest.param("Singers with no stadium", CONCERTS,
                 "SELECT name FROM singer",
                 id="singers-with-no-stadium"),
    pytest.param("Singers without concerts", CONCERTS,
                 "SELECT name FROM singer",
                 id="singers-without-concerts"),
    pytest.param("List all products", SHOP,
                 "SELECT name FROM products",
                 id="list-all-products"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), LABEL_COLUMNS)
def test_label_columns(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("label-columns", question, schema, sql)


#: "in alphabetical order" with no key: ORDER BY the first output.
STATED_ORDER = [
    pytest.param("List product names in descending order", SHOP,
                 "SELECT name FROM products ORDER BY name DESC",
                 id="list-product-names-in-descending-order"),
    pytest.param("List cities of customers in alphabetical order", SHOP,
                 "SELECT city FROM customers ORDER BY city ASC",
                 id="list-cities-of-customers-in-alphabetical"),
    pytest.param("List the statuses of orders sorted in descending order", SHOP,
                 "SELECT order_id FROM orders ORDER BY order_id DESC",
                 id="list-the-statuses-of-orders-sorted-in-de"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), STATED_ORDER)
def test_stated_order(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("stated-order", question, schema, sql)


#: Rows grouped by periods come in time order.
CHRONOLOGICAL_ORDER = [
    pytest.param("Payments per month", CONCERTS,
                 "SELECT STRFTIME('%Y-%m', paid_on) FROM payments GROUP BY STRFTIME('%Y-%m', paid_on) "
                 "ORDER BY STRFTIME('%Y-%m', paid_on) ASC",
                 id="payments-per-month"),
    pytest.param("Number of orders per year", SHOP,
                 "SELECT STRFTIME('%Y', order_date), COUNT(*) FROM orders GROUP BY STRFTIME('%Y', "
                 "order_date) ORDER BY STRFTIME('%Y', order_date) ASC",
                 id="number-of-orders-per-year"),
    pytest.param("Revenue per month", SHOP,
                 "SELECT STRFTIME('%Y-%m', order_date), SUM(total_amount) FROM orders GROUP BY "
                 "STRFTIME('%Y-%m', order_date) ORDER BY STRFTIME('%Y-%m', order_date) ASC",
                 id="revenue-per-month"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), CHRONOLOGICAL_ORDER)
def test_chronological_order(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("chronological-order", question, schema, sql)


#: "customers with no orders": key NOT IN (SELECT ...).
EXCLUDE_RELATED = [
    pytest.param("Show stadiums that had no concerts", CONCERTS,
                 "SELECT name FROM stadium WHERE NOT stadium_id IN (SELECT stadium_id FROM concert)",
                 id="show-stadiums-that-had-no-concerts"),
    pytest.param("List customers who have not placed any orders", SHOP,
                 "SELECT first_name, last_name FROM customers WHERE NOT customer_id IN (SELECT customer_id "
                 "FROM orders)",
                 id="list-customers-who-have-not-placed-any-o"),
    pytest.param("Show customers without orders", SHOP,
                 "SELECT first_name, last_name FROM customers WHERE NOT customer_id IN (SELECT customer_id "
                 "FROM orders)",
                 id="show-customers-without-orders"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), EXCLUDE_RELATED)
def test_exclude_related(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("exclude-related", question, schema, sql)


#: A negated table with no join path: ignored.
EXCLUSION_NOT_JOINED = [
    pytest.param("Singers with no stadium", CONCERTS,
                 "SELECT name FROM singer",
                 id="singers-with-no-stadium"),
    pytest.param("Singers without concerts", CONCERTS,
                 "SELECT name FROM singer",
                 id="singers-without-concerts"),
    pytest.param("Show payments without stadiums", CONCERTS,
                 "SELECT payment_id FROM payments",
                 id="show-payments-without-stadiums"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), EXCLUSION_NOT_JOINED)
def test_exclusion_not_joined(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("exclusion-not-joined", question, schema, sql)


#: A context table the joins cannot reach: dropped.
# Pins today's (wrong) answer: ``year`` belongs to the dropped ``concert`` table.
UNREACHABLE_TABLE_DROPPED = [
    pytest.param("Total amount of payments by year", CONCERTS,
                 "SELECT year, SUM(amount) FROM payments GROUP BY year",
                 id="total-amount-of-payments-by-year"),
    pytest.param("Average amount of payments per year", CONCERTS,
                 "SELECT year, AVG(amount) FROM payments GROUP BY year",
                 id="average-amount-of-payments-per-year"),
    pytest.param("Maximum amount of payments by year", CONCERTS,
                 "SELECT year, MAX(amount) FROM payments GROUP BY year",
                 id="maximum-amount-of-payments-by-year"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), UNREACHABLE_TABLE_DROPPED)
def test_unreachable_table_dropped(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("unreachable-table-dropped", question, schema, sql)


#: "different", "distinct", "unique": SELECT DISTINCT.
DISTINCT = [
    pytest.param("List different cities of customers", SHOP,
                 "SELECT DISTINCT city FROM customers",
                 id="list-different-cities-of-customers"),
    pytest.param("What are the unique statuses of orders?", SHOP,
                 "SELECT DISTINCT order_id FROM orders",
                 id="what-are-the-unique-statuses-of-orders"),
    pytest.param("Show distinct categories of products", SHOP,
                 "SELECT DISTINCT category FROM products",
                 id="show-distinct-categories-of-products"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), DISTINCT)
def test_distinct(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("distinct", question, schema, sql)


#: "in both 2014 and 2015": two selections INTERSECTed.
INTERSECT_CONFLICTING = [
    pytest.param("Which city has customers from both France and Germany?", SHOP,
                 "SELECT city FROM customers WHERE country = 'France' INTERSECT SELECT city FROM customers "
                 "WHERE country = 'Germany'",
                 id="which-city-has-customers-from-both-franc"),
    pytest.param("Stadiums with concerts in both 2014 and 2015", CONCERTS,
                 "SELECT T1.name FROM stadium AS T1 JOIN concert AS T2 ON T1.stadium_id = T2.stadium_id "
                 "WHERE T2.year = 2014 INTERSECT SELECT T1.name FROM stadium AS T1 JOIN concert AS T2 ON "
                 "T1.stadium_id = T2.stadium_id WHERE T2.year = 2015",
                 id="stadiums-with-concerts-in-both-2014-and-"),
]


@pytest.mark.parametrize(("question", "schema", "sql"), INTERSECT_CONFLICTING)
def test_intersect_conflicting(question: str, schema: SchemaContext, sql: str) -> None:
    assert_rule("intersect-conflicting", question, schema, sql)

