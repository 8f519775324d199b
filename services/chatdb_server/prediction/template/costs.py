"""Every score and cost of the template generator, in one table.

Three kinds of number live here: *match scores* (how well question words name a schema
element, 1.0 = exactly), *penalties* (subtracted from a reading's confidence when a rule had
to guess) and *alternative costs* (how much less sure an alternative reading is than the
main one). Changing any of them changes which SQL is produced: re-run
``python -m tests.bench.template_accuracy`` afterwards.
"""

from __future__ import annotations

# ---- linking: how well words name a table or column (linking.py) --------------------------------

#: Score of words that spell a whole name, or a name joined into one word ("highschooler").
EXACT_MATCH = 1.0
#: A name read in another word order ("membership level" ~ ``level_of_membership``).
BAG_OF_WORDS_MATCH = 0.9
#: A single word matching only by crude stem ("directors" ~ ``directed_by``).
STEM_MATCH = 0.75
#: A column's own words without its table prefix (``singer_name`` named as "name").
OWN_WORDS_MATCH = 0.95
#: Words of a column comment rather than of its name.
COMMENT_MATCH = 0.7
#: Part of a multi-word name: this times the share of the name's words it covers.
PART_OF_NAME_MATCH = 0.9
#: Question words joined to match a one-word name ("high schooler" ~ ``Highschooler``).
JOINED_MATCH = 0.98
#: A synonym from the lexicon ("nation" for ``country``).
SYNONYM_MATCH = 0.8
#: A sample value matched by one lower-case word (it may be an ordinary word, not the value).
WEAK_VALUE_MATCH = 0.6
#: Capitalised words no sample value holds, read as a value ("in Lisbon"): understood only in part.
CAPITALISED_VALUE_MATCH = 0.5
#: A name mention at least this sure takes its words from a weaker value mention.
STRONG_NAME = 0.99
#: Cosine similarity an embedded word needs to link to a column at all.
EMBED_THRESHOLD = 0.62
#: Scale of a cosine similarity used as a match score.
EMBED_MATCH = 0.8

# ---- resolving a column mention to one target (question.py, values.py) ---------------------------

#: Bonus for a column of a table the question names.
MENTIONED_TABLE_BONUS = 0.35
#: Bonus for a column of the table named right before or after it ("stadium name", "name of the stadium").
ADJACENT_TABLE_BONUS = 0.5
#: Malus for a key-like column (ids are rarely what is meant).
KEY_COLUMN_MALUS = 0.05
#: Targets this close to the best are ranked by how many mentions support their table.
CLOSE_TARGETS = 0.15
#: Score of a value placed on the column named right before it, or on the label of the table before it.
PLACED_VALUE_MATCH = 0.5
#: Bonus for a value's column in a table the question names.
VALUE_IN_NAMED_TABLE_BONUS = 0.3

# ---- penalties: a rule had to guess (subtracted from the confidence) ------------------------------

#: Nothing asked for by name: the subject's label columns are shown.
LABEL_COLUMNS_GUESSED = 0.05
#: No table named at all: the schema's only table is assumed.
ONLY_TABLE_ASSUMED = 0.3
#: A context table the join graph cannot reach was dropped.
UNREACHABLE_TABLE_DROPPED = 0.2
#: "per month" with no date column to group by.
NO_DATE_COLUMN = 0.2
#: A value mention that no column could hold.
VALUE_NOT_PLACED = 0.2
#: A compared number that no numeric column could hold.
NUMBER_NOT_PLACED = 0.2
#: A negated table with no join path from the subject (no NOT IN could be built).
EXCLUSION_NOT_JOINED = 0.2

# ---- confidence of a reading (generator.py) -------------------------------------------------------

#: Confidence floor; also the whole confidence when the question has no content words.
MIN_CONFIDENCE = 0.02
#: Confidence ceiling: a rule-based reading is never certain.
MAX_CONFIDENCE = 0.95
#: Confidence of a question with no content word at all.
NO_CONTENT_CONFIDENCE = 0.1
#: Confidence of a follow-up made as an edit of the previous answer's SQL (``followups.py``).
FOLLOW_UP_CONFIDENCE = 0.8
#: Confidence from coverage: this base plus ``COVERAGE_WEIGHT`` times the share of content words understood.
COVERAGE_BASE = 0.1
#: Weight of the share of content words understood.
COVERAGE_WEIGHT = 0.8
#: Weight of a cue word ("average", "most") in that share: always understood.
CUE_WORD_WEIGHT = 1.0
#: How far below the main reading an alternative at least stays.
BELOW_MAIN = 0.01

# ---- alternative readings: how much less sure each is than the main one (generator.py) ------------

#: A column mention read with its second-best target.
ALTERNATIVE_COLUMN = 0.12
#: "the highest age" read as MAX(age) instead of the row with the highest age.
SUPERLATIVE_AS_AGGREGATE = 0.15
#: "the maximum age" read as the row with the highest age instead of MAX(age).
AGGREGATE_AS_SUPERLATIVE = 0.15
#: Without the DISTINCT that "different" asked for.
DROP_DISTINCT = 0.1
#: Without tables named only as context.
DROP_CONTEXT_TABLES = 0.12
#: SELECT * instead of the label columns.
ALL_COLUMNS = 0.2

# ---- joins (joins.py) ------------------------------------------------------------------------------

#: Cost of a declared join edge (paths are cheapest first).
DECLARED_JOIN = 1.0
#: Cost of a join guessed from a column named like another table's key: dearer than any declared one.
GUESSED_JOIN = 2.5
