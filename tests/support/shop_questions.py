"""Questions the template generator answers about the sample shop, for load tests and benchmarks."""

SHOP_QUESTIONS = (
    "How many customers are there?",
    "List the names of products in the Books category",
    "What is the average price of products?",
    "How many orders were placed in each city?",
    "Show the total amount of orders per status",
    "Which customers live in Berlin?",
)
