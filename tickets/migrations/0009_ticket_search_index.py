"""Keyword search through an index on PostgreSQL (tickets/search.py): every two-character window of a
ticket's content, title and address, lower-cased, in a GIN index. A search for two characters or more
uses the index to find the candidates and the ordinary substring test to confirm them, so the result
is exactly the substring scan's. SQLite (the embedded default) has no index and scans."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION hotline_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
    SELECT coalesce(array_agg(DISTINCT substr(lower(t), i, 2)), ARRAY[]::text[])
    FROM generate_series(1, char_length(t) - 1) AS i
$body$;
CREATE OR REPLACE FUNCTION hotline_ticket_terms(content text, title text, address text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
-- Finds hotline_bigrams in the schema it was created in, also when pg_restore rebuilds the index
-- with an empty search_path.
SET search_path FROM CURRENT AS $body$
    SELECT hotline_bigrams(content || ' ' || title || ' ' || address)
$body$;
"""
INDEX = """
CREATE INDEX IF NOT EXISTS ticket_search_terms ON tickets_ticket USING gin (hotline_ticket_terms(content, title, address));
CREATE INDEX IF NOT EXISTS ticket_number_prefix ON tickets_ticket (number varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS ticket_upstream_number ON tickets_ticket (upstream_number) WHERE upstream_number <> '';
"""
DROP = """
DROP INDEX IF EXISTS ticket_search_terms;
DROP INDEX IF EXISTS ticket_number_prefix;
DROP INDEX IF EXISTS ticket_upstream_number;
DROP FUNCTION IF EXISTS hotline_ticket_terms(text, text, text);
DROP FUNCTION IF EXISTS hotline_bigrams(text);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS)
        schema_editor.execute(INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_ticket_idempotency_key")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
