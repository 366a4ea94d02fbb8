"""Search through the normalization on PostgreSQL: the `ota_fold` function and a trigram index
of the approved pool lines' folded text (`labeling/search.py` says how they are used).

`ota_fold(text)` is `translate()` with the table of `labeling.search.fold_table()` as it stood
when this was written: each spelling to the letter `ottoman.normalize` makes of it, the marks it
ignores deleted. The table is frozen here on purpose: `tests/labeling/test_search.py` compares the
function with the code, so a change to the normalization fails a test until a new migration
replaces the function (and rebuilds the index) instead of leaving the index silently stale.

`pg_trgm` is created when the role may (CREATE EXTENSION needs a superuser, or a trusted
extension and CREATE on the database); otherwise the index is skipped with a note and searches
scan as before. SQLite gets nothing: it scans with the regular expression.
"""

from django.db import migrations, transaction
from django.db.utils import DatabaseError

# Unicode escapes for U&'' literals: ASCII only, nothing to quote.
FOLD_FROM = (
    "\\002C\\0030\\0031\\0032\\0033\\0034\\0035\\0036\\0037\\0038\\0039\\003B\\003F\\0649\\064A"
    "\\06A9\\06AA\\06BE\\06C1\\06C3\\06D5\\06F0\\06F1\\06F2\\06F3\\06F4\\06F5\\06F6\\06F7\\06F8"
    "\\06F9\\0763\\FB50\\FB51\\FB52\\FB53\\FB54\\FB55\\FB56\\FB57\\FB58\\FB59\\FB5A\\FB5B\\FB5C"
    "\\FB5D\\FB5E\\FB5F\\FB60\\FB61\\FB62\\FB63\\FB64\\FB65\\FB66\\FB67\\FB68\\FB69\\FB6A\\FB6B"
    "\\FB6C\\FB6D\\FB6E\\FB6F\\FB70\\FB71\\FB72\\FB73\\FB74\\FB75\\FB76\\FB77\\FB78\\FB79\\FB7A"
    "\\FB7B\\FB7C\\FB7D\\FB7E\\FB7F\\FB80\\FB81\\FB82\\FB83\\FB84\\FB85\\FB86\\FB87\\FB88\\FB89"
    "\\FB8A\\FB8B\\FB8C\\FB8D\\FB8E\\FB8F\\FB90\\FB91\\FB92\\FB93\\FB94\\FB95\\FB96\\FB97\\FB98"
    "\\FB99\\FB9A\\FB9B\\FB9C\\FB9D\\FB9E\\FB9F\\FBA0\\FBA1\\FBA2\\FBA3\\FBA6\\FBA7\\FBA8\\FBA9"
    "\\FBAA\\FBAB\\FBAC\\FBAD\\FBAE\\FBAF\\FBB0\\FBB1\\FBD3\\FBD4\\FBD5\\FBD6\\FBD7\\FBD8\\FBD9"
    "\\FBDA\\FBDB\\FBDC\\FBDE\\FBDF\\FBE0\\FBE1\\FBE2\\FBE3\\FBE4\\FBE5\\FBE6\\FBE7\\FBE8\\FBE9"
    "\\FBFC\\FBFD\\FBFE\\FBFF\\FC5B\\FC5C\\FC5D\\FC90\\FCD9\\FD3C\\FD3D\\FE80\\FE81\\FE82\\FE83"
    "\\FE84\\FE85\\FE86\\FE87\\FE88\\FE89\\FE8A\\FE8B\\FE8C\\FE8D\\FE8E\\FE8F\\FE90\\FE91\\FE92"
    "\\FE93\\FE94\\FE95\\FE96\\FE97\\FE98\\FE99\\FE9A\\FE9B\\FE9C\\FE9D\\FE9E\\FE9F\\FEA0\\FEA1"
    "\\FEA2\\FEA3\\FEA4\\FEA5\\FEA6\\FEA7\\FEA8\\FEA9\\FEAA\\FEAB\\FEAC\\FEAD\\FEAE\\FEAF\\FEB0"
    "\\FEB1\\FEB2\\FEB3\\FEB4\\FEB5\\FEB6\\FEB7\\FEB8\\FEB9\\FEBA\\FEBB\\FEBC\\FEBD\\FEBE\\FEBF"
    "\\FEC0\\FEC1\\FEC2\\FEC3\\FEC4\\FEC5\\FEC6\\FEC7\\FEC8\\FEC9\\FECA\\FECB\\FECC\\FECD\\FECE"
    "\\FECF\\FED0\\FED1\\FED2\\FED3\\FED4\\FED5\\FED6\\FED7\\FED8\\FED9\\FEDA\\FEDB\\FEDC\\FEDD"
    "\\FEDE\\FEDF\\FEE0\\FEE1\\FEE2\\FEE3\\FEE4\\FEE5\\FEE6\\FEE7\\FEE8\\FEE9\\FEEA\\FEEB\\FEEC"
    "\\FEED\\FEEE\\FEEF\\FEF0\\FEF1\\FEF2\\FEF3\\FEF4\\00AD\\061C\\0640\\064B\\064C\\064D\\064E"
    "\\064F\\0650\\0651\\0652\\0653\\0656\\0657\\0658\\0659\\065A\\065B\\065C\\065D\\065E\\065F"
    "\\0670\\06D6\\06D7\\06D8\\06D9\\06DA\\06DB\\06DC\\06DD\\06DE\\06DF\\06E0\\06E1\\06E2\\06E3"
    "\\06E4\\06E5\\06E6\\06E7\\06E8\\06E9\\06EA\\06EB\\06EC\\06ED\\200B\\200C\\200D\\200E\\200F"
    "\\202A\\202B\\202C\\202D\\202E\\2060\\2066\\2067\\2068\\2069\\FC5E\\FC5F\\FC60\\FC61\\FC62"
    "\\FC63\\FCF2\\FCF3\\FCF4\\FE70\\FE71\\FE72\\FE74\\FE76\\FE77\\FE78\\FE79\\FE7A\\FE7B\\FE7C"
    "\\FE7D\\FE7E\\FE7F\\FEFF"
)
FOLD_TO = (
    "\\060C\\0660\\0661\\0662\\0663\\0664\\0665\\0666\\0667\\0668\\0669\\061B\\061F\\06CC\\06CC"
    "\\0643\\0643\\0647\\0647\\0629\\0647\\0660\\0661\\0662\\0663\\0664\\0665\\0666\\0667\\0668"
    "\\0669\\06AD\\0671\\0671\\067B\\067B\\067B\\067B\\067E\\067E\\067E\\067E\\0680\\0680\\0680"
    "\\0680\\067A\\067A\\067A\\067A\\067F\\067F\\067F\\067F\\0679\\0679\\0679\\0679\\06A4\\06A4"
    "\\06A4\\06A4\\06A6\\06A6\\06A6\\06A6\\0684\\0684\\0684\\0684\\0683\\0683\\0683\\0683\\0686"
    "\\0686\\0686\\0686\\0687\\0687\\0687\\0687\\068D\\068D\\068C\\068C\\068E\\068E\\0688\\0688"
    "\\0698\\0698\\0691\\0691\\0643\\0643\\0643\\0643\\06AF\\06AF\\06AF\\06AF\\06B3\\06B3\\06B3"
    "\\06B3\\06B1\\06B1\\06B1\\06B1\\06BA\\06BA\\06BB\\06BB\\06BB\\06BB\\0647\\0647\\0647\\0647"
    "\\0647\\0647\\0647\\0647\\06D2\\06D2\\06D3\\06D3\\06AD\\06AD\\06AD\\06AD\\06C7\\06C7\\06C6"
    "\\06C6\\06C8\\06C8\\06CB\\06CB\\06C5\\06C5\\06C9\\06C9\\06D0\\06D0\\06D0\\06D0\\06CC\\06CC"
    "\\06CC\\06CC\\06CC\\06CC\\0630\\0631\\06CC\\06CC\\0647\\0627\\0627\\0621\\0622\\0622\\0623"
    "\\0623\\0624\\0624\\0625\\0625\\0626\\0626\\0626\\0626\\0627\\0627\\0628\\0628\\0628\\0628"
    "\\0629\\0629\\062A\\062A\\062A\\062A\\062B\\062B\\062B\\062B\\062C\\062C\\062C\\062C\\062D"
    "\\062D\\062D\\062D\\062E\\062E\\062E\\062E\\062F\\062F\\0630\\0630\\0631\\0631\\0632\\0632"
    "\\0633\\0633\\0633\\0633\\0634\\0634\\0634\\0634\\0635\\0635\\0635\\0635\\0636\\0636\\0636"
    "\\0636\\0637\\0637\\0637\\0637\\0638\\0638\\0638\\0638\\0639\\0639\\0639\\0639\\063A\\063A"
    "\\063A\\063A\\0641\\0641\\0641\\0641\\0642\\0642\\0642\\0642\\0643\\0643\\0643\\0643\\0644"
    "\\0644\\0644\\0644\\0645\\0645\\0645\\0645\\0646\\0646\\0646\\0646\\0647\\0647\\0647\\0647"
    "\\0648\\0648\\06CC\\06CC\\06CC\\06CC\\06CC\\06CC"
)

FUNCTION = (
    "CREATE OR REPLACE FUNCTION ota_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    f"AS $fold$ SELECT pg_catalog.translate($1, U&'{FOLD_FROM}', U&'{FOLD_TO}') $fold$"
)
INDEX = (
    "CREATE INDEX IF NOT EXISTS line_approved_fold_trgm ON labeling_line "
    "USING gin (ota_fold(consensus_text) gin_trgm_ops) WHERE status = 'approved' AND in_pool"
)


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            print(
                f"\n  pg_trgm could not be created ({error}); searches will scan. "
                "A superuser can run CREATE EXTENSION pg_trgm and migrate labeling 0017, then 0018."
            )
            return
        cursor.execute(INDEX)


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS line_approved_fold_trgm")
        cursor.execute("DROP FUNCTION IF EXISTS ota_fold(text)")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0017_moderation_workbench")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
