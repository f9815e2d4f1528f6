"""Tell PostgreSQL's planner what the keyword-index function costs (tickets/search.py).

``hotline_ticket_terms`` computes every two-character window of a ticket's texts: tens of microseconds a
row. Declared at the default cost of a SQL function (100), the planner judged it cheap to walk the
registered_at index backwards and test each row: for a ticket-number search shown on one page (LIMIT 1,
newest first) it walked 10,000,000 rows computing the function for each and never finished (bench scale).
At COST 1000 it takes the indexes (number prefix, upstream number, bigram GIN: 9 ms), while a common word
still walks the newest rows (a few hundred rows, ~20 ms).
"""

from django.db import migrations

COST = """
ALTER FUNCTION hotline_bigrams(text) COST 1000;
ALTER FUNCTION hotline_ticket_terms(text, text, text) COST 1000;
"""
DEFAULT = """
ALTER FUNCTION hotline_bigrams(text) COST 100;
ALTER FUNCTION hotline_ticket_terms(text, text, text) COST 100;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COST)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0020_ticket_registered_month")]
    operations = [migrations.RunPython(forwards, backwards)]
