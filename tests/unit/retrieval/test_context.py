"""The schema context as a caller bound by column policies sees it."""

from __future__ import annotations

from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.sql.structure import JoinEdge

CONTEXT = SchemaContext(
    tables=(TableInfo("Customers", (ColumnInfo("id", primary_key=True), ColumnInfo("SSN", sample_values=("111",)),
                                    ColumnInfo("email", sample_values=("a@x",)),
                                    ColumnInfo("name", sample_values=("Ada",))), description="People; their ssn."),
            TableInfo("orders", (ColumnInfo("id"), ColumnInfo("customer_ssn")), description="Orders by customer_ssn")),
    joins=(JoinEdge("orders", ("customer_ssn",), "Customers", ("SSN",)),
           JoinEdge("orders", ("id",), "Customers", ("id",), inferred=True)))


def test_excluded_columns_and_joins_through_them_are_gone_and_masked_samples_hidden() -> None:
    seen = CONTEXT.without_columns({("customers", "ssn")}, unsampled={("customers", "email")})
    customers = seen.table("customers")
    assert customers is not None
    assert [c.name for c in customers.columns] == ["id", "email", "name"]
    assert [c.sample_values for c in customers.columns] == [(), (), ("Ada",)]
    assert customers.description == "" and seen.table("orders") == CONTEXT.table("orders")
    assert seen.joins == (CONTEXT.joins[1],)


def test_no_policies_leave_the_context_as_it_was() -> None:
    assert CONTEXT.without_columns(set()) == CONTEXT
