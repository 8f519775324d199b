"""Hostile SQL against the policies of :mod:`tests.integration.query.policy_world`: each attack either must be
refused, or must run and show an EU asker exactly what the EU reference database shows (no ``ssn``, no
row of another region, masked e-mail addresses).

``{q}`` in an attack stands for the dialect's identifier quote. An attack runs on the dialects it names;
``reference`` is False where SQLite (the reference) cannot run the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL = ("postgresql", "mysql", "sqlite")


@dataclass(frozen=True)
class Attack:
    """One hostile query."""

    name: str
    sql: str
    refused: bool
    dialects: tuple[str, ...] = ALL
    reference: bool = True

    def text(self, dialect: str) -> str:
        """The query as written for ``dialect``."""
        return self.sql.replace("{q}", "`" if dialect == "mysql" else '"')


def refused(name: str, sql: str, dialects: tuple[str, ...] = ALL) -> Attack:
    return Attack(name, sql, True, dialects)


def allowed(name: str, sql: str, dialects: tuple[str, ...] = ALL, reference: bool = True) -> Attack:
    return Attack(name, sql, False, dialects, reference)


ATTACKS = (
    # the excluded column, named anywhere
    refused("plain", "SELECT ssn FROM customers"),
    refused("qualified alias", "SELECT c.ssn FROM customers AS c"),
    refused("quoted", "SELECT {q}ssn{q} FROM customers"),
    refused("quoted upper case", "SELECT {q}SSN{q} FROM customers"),
    refused("upper case", "SELECT UPPER(SSN) FROM customers"),
    refused("function", "SELECT LENGTH(ssn), name FROM customers"),
    refused("aggregate", "SELECT MAX(ssn) FROM customers"),
    refused("count distinct", "SELECT COUNT(DISTINCT ssn) FROM customers"),
    refused("coalesce", "SELECT COALESCE(ssn, name) FROM customers"),
    refused("where", "SELECT name FROM customers WHERE ssn LIKE '1%'"),
    refused("order by", "SELECT name FROM customers ORDER BY ssn"),
    refused("group by", "SELECT ssn, COUNT(*) FROM customers GROUP BY ssn"),
    refused("having", "SELECT region FROM customers GROUP BY region HAVING MAX(ssn) > '0'"),
    refused("case", "SELECT CASE WHEN ssn LIKE '1%' THEN 'a' ELSE 'b' END FROM customers"),
    refused("window", "SELECT name, LAG(ssn) OVER (ORDER BY id) FROM customers"),
    refused("derived table", "SELECT x.s FROM (SELECT ssn AS s FROM customers) AS x"),
    refused("cte", "WITH t AS (SELECT ssn FROM customers) SELECT * FROM t"),
    refused("union", "SELECT name FROM customers UNION SELECT ssn FROM customers"),
    refused("intersect", "SELECT name FROM customers INTERSECT SELECT ssn FROM customers"),
    refused("except", "SELECT name FROM customers EXCEPT SELECT ssn FROM customers"),
    refused("correlated subquery",
            "SELECT o.id, (SELECT c.ssn FROM customers c WHERE c.id = o.customer_id) AS s FROM orders o"),
    refused("exists", "SELECT name FROM customers c WHERE EXISTS "
                      "(SELECT 1 FROM customers d WHERE d.ssn LIKE '1%' AND d.id = c.id)"),
    refused("self join on it", "SELECT a.name FROM customers a JOIN customers b ON a.ssn = b.ssn"),
    refused("using it", "SELECT a.name FROM customers a JOIN customers b USING (ssn)"),
    refused("comment hidden", "SELECT /* harmless */ name, -- more\n ssn FROM customers"),
    # stars and shapes the policies cannot follow
    refused("natural join star", "SELECT * FROM customers NATURAL JOIN orders"),
    refused("using star", "SELECT * FROM customers JOIN orders USING (id)"),
    refused("cte shadowing", "WITH customers AS (SELECT * FROM orders) SELECT * FROM customers"),
    refused("recursive cte shadowing",
            "WITH RECURSIVE customers(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM customers WHERE id < 3) "
            "SELECT id FROM customers"),
    refused("table function", "SELECT c.name FROM customers c, json_each('[1]') AS j", ("sqlite",)),
    refused("table function", "SELECT c.name FROM customers c, generate_series(1, 2) AS g", ("postgresql",)),
    # stars expand without the excluded column; filtered rows stay filtered
    allowed("star", "SELECT * FROM customers"),
    allowed("qualified star", "SELECT c.* FROM customers c"),
    allowed("star over a join", "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id"),
    allowed("star of a derived star", "SELECT * FROM (SELECT * FROM customers) AS d"),
    allowed("star of a cte star", "WITH t AS (SELECT * FROM customers) SELECT t.* FROM t"),
    allowed("union all of stars", "SELECT * FROM customers UNION ALL SELECT * FROM customers"),
    allowed("ordinal order by", "SELECT * FROM customers ORDER BY 4, 1"),
    allowed("case variants", "SELECT NAME, Region FROM customers"),
    allowed("other region asked for", "SELECT name FROM customers WHERE region = 'US'"),
    allowed("tautology", "SELECT name FROM customers WHERE 1 = 1 OR region <> 'EU'"),
    allowed("comment hiding a filter", "SELECT name FROM customers -- WHERE region = 'EU'\n WHERE id > 0"),
    allowed("left join", "SELECT c.name, o.amount FROM customers c LEFT JOIN orders o ON o.customer_id = c.id"),
    allowed("right side filtered", "SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON c.id = o.customer_id"),
    allowed("in subquery", "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 0)"),
    allowed("correlated", "SELECT o.id, (SELECT c.name FROM customers c WHERE c.id = o.customer_id) AS who "
                          "FROM orders o"),
    allowed("not exists", "SELECT r.code FROM regions r WHERE NOT EXISTS "
                          "(SELECT 1 FROM customers c WHERE c.region = r.code)"),
    allowed("group by region", "SELECT region, COUNT(*), SUM(id) FROM customers GROUP BY region"),
    allowed("having", "SELECT region, COUNT(*) FROM orders GROUP BY region HAVING COUNT(*) > 0"),
    allowed("union", "SELECT name FROM customers UNION SELECT name FROM customers WHERE region = 'US'"),
    allowed("intersect", "SELECT customer_id FROM orders INTERSECT SELECT id FROM customers"),
    allowed("except", "SELECT name FROM customers EXCEPT SELECT name FROM customers WHERE id = 1"),
    allowed("self cross join", "SELECT a.name, b.name FROM customers a CROSS JOIN customers b"),
    allowed("cte", "WITH everyone AS (SELECT id, name, region FROM customers) SELECT * FROM everyone"),
    allowed("derived outer filter", "SELECT d.name FROM (SELECT name, region FROM customers) AS d "
                                    "WHERE d.region <> 'EU'"),
    allowed("recursive cte", "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 3) "
                             "SELECT c.name FROM n JOIN customers c ON c.id = n.k"),
    allowed("window", "SELECT name, COUNT(*) OVER (PARTITION BY region) FROM customers"),
    allowed("join to unprotected", "SELECT r.label, c.name FROM regions r JOIN customers c ON c.region = r.code"),
    allowed("lateral", "SELECT c.name, x.total FROM customers c CROSS JOIN LATERAL "
                       "(SELECT SUM(o.amount) AS total FROM orders o WHERE o.customer_id = c.id) AS x",
            ("postgresql",), reference=False),
    allowed("schema qualified", "SELECT name FROM public.customers", ("postgresql",), reference=False),
    allowed("schema qualified", "SELECT name FROM main.customers", ("sqlite",)),
    # the masked column: usable, its values masked wherever they surface
    allowed("masked", "SELECT name, email FROM customers ORDER BY 2 DESC"),
    allowed("masked min max", "SELECT MIN(email), MAX(email), COUNT(email) FROM customers"),
    allowed("masked through a function", "SELECT UPPER(email) AS e FROM customers"),
    allowed("masked through a derived table", "SELECT d.e FROM (SELECT email AS e FROM customers) AS d"),
    allowed("masked through a union", "SELECT name FROM customers UNION SELECT email FROM customers"),
    allowed("masked in a join", "SELECT o.id FROM orders o JOIN customers c ON c.email LIKE '%eu' "
                                "AND c.id = o.customer_id"),
    allowed("masked in case", "SELECT CASE WHEN email LIKE 'a%' THEN email END AS x FROM customers"),
)
