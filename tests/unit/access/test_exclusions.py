"""Excluded columns: gone from documents and fine-tune schemas, kept (without samples) in the stored structure."""

from __future__ import annotations

from chatdb_server.access.exclusions import (
    Exclusions,
    joins_without,
    stored_without_columns,
    without_columns,
    without_samples,
)
from chatdb_server.retrieval.documents import stored_table_document
from chatdb_server.sql.structure import (
    ColumnStructure,
    ForeignKeyStructure,
    IndexStructure,
    JoinEdge,
    StoredTable,
    TableStructure,
)

PATIENTS = TableStructure(
    name="patients", columns=(ColumnStructure("id", "INTEGER", "INTEGER", primary_key=True),
                              ColumnStructure("full_name", "TEXT"), ColumnStructure("diagnosis_code", "TEXT"),
                              ColumnStructure("ward_id", "INTEGER", "INTEGER")),
    primary_key=("id",), foreign_keys=(ForeignKeyStructure(("ward_id",), "wards", ("id",)),),
    indexes=(IndexStructure("ix_diagnosis", ("diagnosis_code",)), IndexStructure("ix_name", ("full_name",))),
    sample_rows=((1, "Ada", "F32.1", 7), (2, "Linus", "J45.0", 8)),
    sample_values={"full_name": ("Ada", "Linus"), "diagnosis_code": ("F32.1", "J45.0")})
DIAGNOSIS = Exclusions(frozenset({("patients", "diagnosis_code")}))
WARD = Exclusions(frozenset({("patients", "ward_id")}))
TO_WARDS = JoinEdge("patients", ("ward_id",), "wards", ("id",))


def test_without_columns_leaves_no_trace_of_the_column() -> None:
    cleaned = without_columns(PATIENTS, DIAGNOSIS)
    assert [c.name for c in cleaned.columns] == ["id", "full_name", "ward_id"]
    assert cleaned.sample_rows == ((1, "Ada", 7), (2, "Linus", 8))
    assert [ix.name for ix in cleaned.indexes] == ["ix_name"] and cleaned.foreign_keys == PATIENTS.foreign_keys
    assert "diagnosis" not in repr(cleaned).lower() and "F32" not in repr(cleaned)
    assert without_columns(PATIENTS, WARD).foreign_keys == ()
    assert without_columns(PATIENTS, Exclusions()) is PATIENTS


def test_a_foreign_key_to_an_excluded_column_of_another_table_goes_too() -> None:
    assert without_columns(PATIENTS, Exclusions(frozenset({("wards", "id")}))).foreign_keys == ()


def test_without_samples_keeps_the_column_and_nulls_its_cells() -> None:
    cleaned = without_samples(PATIENTS, DIAGNOSIS)
    assert cleaned.columns == PATIENTS.columns
    assert cleaned.sample_rows == ((1, "Ada", None, 7), (2, "Linus", None, 8))
    assert cleaned.sample_values == {"full_name": ("Ada", "Linus")}


def test_exclusions_match_names_in_any_case() -> None:
    shouting = TableStructure(name="Patients", columns=(ColumnStructure("Diagnosis_Code", "TEXT"),),
                              sample_rows=(("F32.1",),), sample_values={"Diagnosis_Code": ("F32.1",)})
    assert DIAGNOSIS.of("PATIENTS") == {"diagnosis_code"}
    assert without_columns(shouting, DIAGNOSIS).columns == ()
    assert without_samples(shouting, DIAGNOSIS).sample_values == {}


def test_a_stored_tables_document_names_neither_the_column_nor_joins_through_it() -> None:
    stored = StoredTable(PATIENTS, "Table patients holds patients.", "fp", None)
    before = stored_table_document(stored, [TO_WARDS])
    assert "diagnosis" in before and "wards" in before
    after = stored_table_document(stored, [TO_WARDS], Exclusions(DIAGNOSIS.columns | WARD.columns))
    assert "diagnosis" not in after and "ward" not in after and "full name" in after
    assert joins_without([TO_WARDS], WARD) == [] and joins_without([TO_WARDS], DIAGNOSIS) == [TO_WARDS]
    assert stored_without_columns(stored, DIAGNOSIS).structure == without_columns(PATIENTS, DIAGNOSIS)
