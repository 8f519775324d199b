"""A small online shop as a SQLite database: the sample ChatDB tours and tests use.

    python -m chatdb_server.samples.shop shop.db

Customers in real cities place orders for products in categories over two years,
pay for them and review what they bought. The schema shows what discovery finds
in real databases: declared foreign keys, a composite primary key (order_items),
a view (order_totals), and joins that are only inferable because nobody declared
them (reviews.product_id → products.id, reviews.customer_id → customers.id).
The same seed always gives the same file contents.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

SCHEMA = """
CREATE TABLE categories (
    id          INTEGER PRIMARY KEY,
    name        VARCHAR(40) NOT NULL UNIQUE,
    description TEXT
);
CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    name        VARCHAR(80) NOT NULL,
    category_id INTEGER NOT NULL REFERENCES categories(id),
    price       NUMERIC(10, 2) NOT NULL,
    stock       INTEGER NOT NULL DEFAULT 0,
    added_on    DATE NOT NULL
);
CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    name       VARCHAR(80) NOT NULL,
    email      VARCHAR(120) NOT NULL UNIQUE,
    city       VARCHAR(60) NOT NULL,
    country    VARCHAR(60) NOT NULL,
    joined_on  DATE NOT NULL
);
CREATE TABLE orders (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    order_date   DATE NOT NULL,
    status       VARCHAR(20) NOT NULL,
    total_amount NUMERIC(10, 2) NOT NULL
);
CREATE INDEX ix_orders_customer ON orders(customer_id);
CREATE INDEX ix_orders_date ON orders(order_date);
CREATE TABLE order_items (
    order_id   INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity   INTEGER NOT NULL,
    unit_price NUMERIC(10, 2) NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE TABLE payments (
    id       INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    paid_at  DATETIME NOT NULL,
    method   VARCHAR(20) NOT NULL,
    amount   NUMERIC(10, 2) NOT NULL
);
-- Written by a different team, which never declares foreign keys.
CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title       VARCHAR(120),
    created_on  DATE NOT NULL
);
CREATE VIEW order_totals AS
    SELECT o.id AS order_id, o.customer_id, o.order_date, COUNT(i.product_id) AS item_count,
           SUM(i.quantity) AS units, ROUND(SUM(i.quantity * i.unit_price), 2) AS items_total
    FROM orders o JOIN order_items i ON i.order_id = o.id
    GROUP BY o.id, o.customer_id, o.order_date;
"""

CATEGORIES: dict[str, tuple[str, list[tuple[str, float]]]] = {
    "Books": ("Novels, cookbooks and guides", [
        ("The Silent Orchard", 14.99), ("A Short History of Salt", 18.50), ("Python for Busy People", 39.00),
        ("The Lighthouse Keeper's Daughter", 12.99), ("Weeknight Pasta", 24.00), ("Maps of the Old World", 45.00),
        ("Learning to Sail", 21.75), ("The Quiet Mathematician", 16.25)]),
    "Electronics": ("Gadgets and accessories", [
        ("Wireless Earbuds", 59.90), ("USB-C Charger 65W", 34.99), ("Mechanical Keyboard", 89.00),
        ("27-inch Monitor", 229.00), ("Bluetooth Speaker", 49.50), ("Noise-Cancelling Headphones", 199.00),
        ("Portable SSD 1TB", 109.99), ("Smart Plug", 19.99)]),
    "Kitchen": ("Cookware and tools", [
        ("Cast Iron Skillet", 42.00), ("Chef's Knife", 69.00), ("French Press", 29.50), ("Bamboo Cutting Board", 22.00),
        ("Stand Mixer", 279.00), ("Espresso Cups (set of 4)", 18.00), ("Dutch Oven", 89.90)]),
    "Garden": ("Plants, seeds and tools", [
        ("Tomato Seeds", 3.50), ("Pruning Shears", 24.90), ("Watering Can", 17.00), ("Raised Garden Bed", 129.00),
        ("Compost Bin", 64.00), ("Lavender Plant", 8.99), ("Garden Gloves", 11.50)]),
    "Toys": ("Games and toys for all ages", [
        ("Wooden Train Set", 54.00), ("Jigsaw Puzzle 1000", 19.99), ("Building Blocks", 34.00),
        ("Board Game: Harbour", 39.99), ("Plush Fox", 15.00), ("Kite", 23.50), ("Chess Set", 44.00)]),
    "Sports": ("Gear for the outdoors", [
        ("Yoga Mat", 29.00), ("Running Shoes", 119.00), ("Water Bottle", 14.00), ("Tennis Racket", 89.00),
        ("Cycling Helmet", 69.00), ("Climbing Chalk", 9.50), ("Camping Stove", 74.00)]),
    "Clothing": ("Everyday wear", [
        ("Merino Sweater", 89.00), ("Rain Jacket", 129.00), ("Cotton T-Shirt", 19.00), ("Wool Socks", 12.50),
        ("Denim Jeans", 69.00), ("Linen Shirt", 54.00), ("Knit Beanie", 22.00)]),
    "Stationery": ("Paper, pens and desk things", [
        ("Fountain Pen", 49.00), ("Dotted Notebook", 16.50), ("Desk Lamp", 39.00), ("Pencil Set", 8.00),
        ("Wall Calendar", 14.00), ("Washi Tape", 6.50)]),
}
FIRST_NAMES = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Leo", "Sofia", "Hugo", "Amelia", "Mateo",
               "Chloe", "Elias", "Nora", "Arthur", "Lena", "Oscar", "Ines", "Felix", "Hana", "Jonas", "Zoe", "Ravi",
               "Aisha", "Kenji", "Maya", "Tomas", "Freya", "Diego"]
LAST_NAMES = ["Martin", "Smith", "Garcia", "Müller", "Rossi", "Novak", "Dubois", "Silva", "Jensen", "Kowalski",
              "Tanaka", "Okafor", "Patel", "Larsen", "Moreau", "Fischer", "Costa", "Nguyen", "Schmidt", "Brown"]
CITIES = [("Paris", "France"), ("Lyon", "France"), ("Berlin", "Germany"), ("Munich", "Germany"),
          ("Madrid", "Spain"), ("Barcelona", "Spain"), ("Rome", "Italy"), ("Milan", "Italy"),
          ("Amsterdam", "Netherlands"), ("Lisbon", "Portugal"), ("Vienna", "Austria"), ("Copenhagen", "Denmark"),
          ("Warsaw", "Poland"), ("Dublin", "Ireland"), ("London", "United Kingdom"), ("Manchester", "United Kingdom")]
STATUSES = [("delivered", 70), ("shipped", 12), ("processing", 8), ("cancelled", 6), ("returned", 4)]
PAYMENT_METHODS = [("card", 65), ("paypal", 20), ("bank_transfer", 10), ("gift_card", 5)]
REVIEW_TITLES = {5: ["Excellent", "Love it", "Exactly as described", "Would buy again"],
                 4: ["Very good", "Solid choice", "Happy with it"],
                 3: ["It's fine", "Average", "Does the job"],
                 2: ["Disappointing", "Not great"],
                 1: ["Broke quickly", "Would not recommend"]}
FIRST_DAY = dt.date(2023, 1, 1)
DAYS = 730
CUSTOMERS = 120
ORDERS = 400
REVIEWS = 250


def _weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _money(value: Decimal | float) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _fill(db: sqlite3.Connection, rng: random.Random) -> None:
    products: list[tuple[int, Decimal, dt.date]] = []
    for category_id, (category, (description, items)) in enumerate(CATEGORIES.items(), start=1):
        db.execute("INSERT INTO categories VALUES (?, ?, ?)", (category_id, category, description))
        for name, list_price in items:
            added = FIRST_DAY + dt.timedelta(days=rng.randrange(0, 120))
            db.execute("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)",
                       (len(products) + 1, name, category_id, _money(list_price), rng.randrange(0, 250),
                        added.isoformat()))
            products.append((len(products) + 1, Decimal(str(list_price)), added))
    emails: set[str] = set()
    customers: list[dt.date] = []
    for customer_id in range(1, CUSTOMERS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}".lower().replace("ü", "ue") + "@example.com"
        while email in emails:
            email = email.replace("@", f"{rng.randrange(10)}@", 1)
        emails.add(email)
        city, country = rng.choice(CITIES)
        joined = FIRST_DAY + dt.timedelta(days=rng.randrange(0, DAYS - 60))
        customers.append(joined)
        db.execute("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
                   (customer_id, f"{first} {last}", email, city, country, joined.isoformat()))
    bought: list[tuple[int, int, dt.date]] = []
    for order_id in range(1, ORDERS + 1):
        customer_id = rng.randrange(1, CUSTOMERS + 1)
        joined = customers[customer_id - 1]
        ordered = joined + dt.timedelta(days=rng.randrange(0, (FIRST_DAY + dt.timedelta(days=DAYS) - joined).days))
        status = _weighted(rng, STATUSES)
        lines = rng.sample([p for p in products if p[2] <= ordered] or products, k=rng.choice([1, 1, 2, 2, 3, 4]))
        total = Decimal(0)
        order_lines = []
        for product_id, price, _ in lines:
            quantity = rng.choice([1, 1, 1, 2, 2, 3])
            total += price * quantity
            order_lines.append((order_id, product_id, quantity, _money(price)))
            bought.append((customer_id, product_id, ordered))
        db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                   (order_id, customer_id, ordered.isoformat(), status, _money(total)))
        db.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?)", order_lines)
        if status != "cancelled":
            paid = dt.datetime.combine(ordered, dt.time(rng.randrange(7, 23), rng.randrange(60), rng.randrange(60)))
            db.execute("INSERT INTO payments (order_id, paid_at, method, amount) VALUES (?, ?, ?, ?)",
                       (order_id, paid.isoformat(sep=" "), _weighted(rng, PAYMENT_METHODS), _money(total)))
    for review_id, (customer_id, product_id, ordered) in enumerate(rng.sample(bought, k=min(REVIEWS, len(bought))), 1):
        rating = rng.choices([5, 4, 3, 2, 1], weights=[40, 30, 15, 9, 6])[0]
        written = ordered + dt.timedelta(days=rng.randrange(3, 40))
        db.execute("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?)",
                   (review_id, product_id, customer_id, rating, rng.choice(REVIEW_TITLES[rating]), written.isoformat()))


def build_shop_database(path: Path, seed: int = 7) -> Path:
    """Write the shop database to ``path`` (replacing any file there) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    try:
        db.executescript(SCHEMA)
        _fill(db, random.Random(seed))
        db.commit()
    finally:
        db.close()
    partial.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m chatdb_server.samples.shop PATH``: build the database and say what is in it."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m chatdb_server.samples.shop PATH", file=sys.stderr)
        return 2
    path = build_shop_database(Path(args[0]))
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        counts = ", ".join(f"{t} {db.execute(f'SELECT COUNT(*) FROM {t}').fetchone()[0]}" for t in tables)
    finally:
        db.close()
    print(f"wrote {path}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
