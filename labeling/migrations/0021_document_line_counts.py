"""Per-document line counts kept by triggers on labeling_line (see DocumentLineCounts).

The same triggers for PostgreSQL (a PL/pgSQL function) and SQLite (one trigger per event). Each
adds a line's contribution for its new state and takes away the old one's, only when the state
(status, gold text, page) changed; a document's deletion deletes its row. The rows of documents
that exist already are counted once here.
"""

import django.db.models.deletion
from django.db import migrations, models


# A line's contribution to its document's counts, from the row OLD or NEW.
def _contribution(row: str, sign: str) -> str:
    return (
        f"{sign}1, "
        f"{sign}(CASE WHEN {row}.status = 'open' AND {row}.gold_text = '' THEN 1 ELSE 0 END), "
        f"{sign}(CASE WHEN {row}.status IN ('agreed', 'approved') THEN 1 ELSE 0 END)"
    )


UPSERT = """
INSERT INTO labeling_documentlinecounts (document_id, lines, open_lines, agreed_lines)
SELECT p.document_id, {values} FROM labeling_page p WHERE p.id = {row}.page_id
ON CONFLICT (document_id) DO UPDATE SET
  lines = labeling_documentlinecounts.lines + excluded.lines,
  open_lines = labeling_documentlinecounts.open_lines + excluded.open_lines,
  agreed_lines = labeling_documentlinecounts.agreed_lines + excluded.agreed_lines;
"""
CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status OR OLD.gold_text IS DISTINCT FROM NEW.gold_text "
    "OR OLD.page_id IS DISTINCT FROM NEW.page_id"
)


def _upsert(row: str, sign: str) -> str:
    return UPSERT.format(values=_contribution(row, sign), row=row)


POSTGRES = f"""
CREATE FUNCTION labeling_line_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {_upsert("OLD", "-")} END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN {_upsert("NEW", "")} END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER labeling_line_counts_insert_delete AFTER INSERT OR DELETE ON labeling_line
  FOR EACH ROW EXECUTE FUNCTION labeling_line_counts();
CREATE TRIGGER labeling_line_counts_update AFTER UPDATE ON labeling_line
  FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION labeling_line_counts();
CREATE FUNCTION labeling_document_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM labeling_documentlinecounts WHERE document_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER labeling_document_counts_delete AFTER DELETE ON labeling_document
  FOR EACH ROW EXECUTE FUNCTION labeling_document_counts_delete();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS labeling_line_counts_insert_delete ON labeling_line;
DROP TRIGGER IF EXISTS labeling_line_counts_update ON labeling_line;
DROP FUNCTION IF EXISTS labeling_line_counts();
DROP TRIGGER IF EXISTS labeling_document_counts_delete ON labeling_document;
DROP FUNCTION IF EXISTS labeling_document_counts_delete();
"""
SQLITE = [
    f"CREATE TRIGGER labeling_line_counts_insert AFTER INSERT ON labeling_line "
    f"BEGIN {_upsert('NEW', '')} END;",
    f"CREATE TRIGGER labeling_line_counts_delete AFTER DELETE ON labeling_line "
    f"BEGIN {_upsert('OLD', '-')} END;",
    f"CREATE TRIGGER labeling_line_counts_update AFTER UPDATE ON labeling_line "
    f"WHEN {CHANGED} BEGIN {_upsert('OLD', '-')} {_upsert('NEW', '')} END;",
    "CREATE TRIGGER labeling_document_counts_delete AFTER DELETE ON labeling_document "
    "BEGIN DELETE FROM labeling_documentlinecounts WHERE document_id = OLD.id; END;",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS labeling_line_counts_insert;",
    "DROP TRIGGER IF EXISTS labeling_line_counts_delete;",
    "DROP TRIGGER IF EXISTS labeling_line_counts_update;",
    "DROP TRIGGER IF EXISTS labeling_document_counts_delete;",
]
BACKFILL = """
INSERT INTO labeling_documentlinecounts (document_id, lines, open_lines, agreed_lines)
SELECT p.document_id, COUNT(*),
  SUM(CASE WHEN l.status = 'open' AND l.gold_text = '' THEN 1 ELSE 0 END),
  SUM(CASE WHEN l.status IN ('agreed', 'approved') THEN 1 ELSE 0 END)
FROM labeling_line l JOIN labeling_page p ON p.id = l.page_id GROUP BY p.document_id;
"""


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    statements = [POSTGRES] if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in [*statements, BACKFILL]:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in [POSTGRES_DROP] if postgres else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0020_admin_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="DocumentLineCounts",
            fields=[
                (
                    "document",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="line_counts",
                        serialize=False,
                        to="labeling.document",
                    ),
                ),
                ("lines", models.IntegerField(default=0)),
                ("open_lines", models.IntegerField(default=0)),
                ("agreed_lines", models.IntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(
                        models.OrderBy(models.F("open_lines"), descending=True),
                        models.F("document"),
                        name="doc_counts_open_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
