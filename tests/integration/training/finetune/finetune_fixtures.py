"""A small schema, golden pairs and quick LoRA settings for fine-tune tests."""

from __future__ import annotations

from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.sql.structure import JoinEdge
from chatdb_server.training.finetune.dataset import TrainingPair
from chatdb_server.training.finetune.lora import LoraOptions

SCHEMA = SchemaContext(tables=(
    TableInfo("singer", (ColumnInfo("singer_id", "INTEGER", primary_key=True),
                         ColumnInfo("name", "TEXT", sample_values=("Joe Sharp", "Rose White")),
                         ColumnInfo("country", "TEXT", sample_values=("France", "Netherlands")),
                         ColumnInfo("age", "INTEGER"))),
    TableInfo("concert", (ColumnInfo("concert_id", "INTEGER", primary_key=True),
                          ColumnInfo("concert_name", "TEXT"), ColumnInfo("singer_id", "INTEGER"),
                          ColumnInfo("year", "INTEGER"))),
), joins=(JoinEdge("concert", ("singer_id",), "singer", ("singer_id",)),))
GOLDEN = [
    TrainingPair("How many singers are from France?", "SELECT COUNT(*) FROM singer WHERE country = 'France'"),
    TrainingPair("Names of singers older than 30", "SELECT name FROM singer WHERE age > 30"),
]
MORE_GOLDEN = [
    *GOLDEN,
    TrainingPair("How many concerts are there?", "SELECT COUNT(*) FROM concert"),
    TrainingPair("Which concerts were held in 2014?", "SELECT concert_name FROM concert WHERE year = 2014"),
    TrainingPair("What is the average age of singers?", "SELECT AVG(age) FROM singer"),
]
"""Five golden pairs: enough for one to be held out of training and measure the adapter on."""
QUICK = LoraOptions(epochs=4, learning_rate=2e-2, rank=8, alpha=16, dropout=0.0, batch_size=8, max_length=512)
"""Large learning rate so a few steps visibly change the tiny model."""
