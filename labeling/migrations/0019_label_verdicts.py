"""Stored verdicts of labels against their line's consensus, whether a label's text is exactly
Tesseract's reading, "My labels" newest first, and the daily counts of lines by status.

The data step computes the two new fields for the labels there are, in batches: the verdict
as `labeling.review.verdicts.refresh_verdicts` does (the same `agrees` under the document's
threshold, on agreed or approved lines with a consensus), `as_predicted` against the line's
prediction as it stands (the best there is for labels saved before the field).
"""

from django.conf import settings
from django.db import migrations, models

from labeling.ottoman import clean_input
from labeling.review.agreement import Rules, agrees

BATCH = 2000
SETTLED = ("agreed", "approved")


def compute_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    Transcription = apps.get_model("labeling", "Transcription")
    last = 0
    while True:
        batch = list(
            Transcription.objects.filter(pk__gt=last)
            .select_related("line__page__document")
            .only(
                "text",
                "line__status",
                "line__consensus_text",
                "line__prediction",
                "line__page__document__agreement_threshold",
            )
            .order_by("pk")[:BATCH]
        )
        if not batch:
            return
        last = batch[-1].pk
        changed = []
        for label in batch:
            line = label.line
            verdict = "pending"
            if line.status in SETTLED and line.consensus_text:
                rules = Rules(threshold=line.page.document.agreement_threshold)
                agreed = agrees(label.text, line.consensus_text, rules)
                verdict = "agreed" if agreed else "overturned"
            as_predicted = label.text == clean_input(line.prediction)
            if verdict != "pending" or as_predicted:
                label.verdict, label.as_predicted = verdict, as_predicted
                changed.append(label)
        Transcription.objects.bulk_update(changed, ["verdict", "as_predicted"])


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0018_search_trigram"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LineStatusCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("open", "Open"),
                            ("agreed", "Agreed"),
                            ("disputed", "Disputed"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                        ],
                        max_length=10,
                    ),
                ),
                ("count", models.PositiveIntegerField()),
                ("recorded_at", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="transcription",
            name="as_predicted",
            field=models.BooleanField(
                default=False,
                help_text="The text is exactly Tesseract's reading of the line when it was saved.",
            ),
        ),
        migrations.AddField(
            model_name="transcription",
            name="verdict",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting for others"),
                    ("agreed", "Agreed with the consensus"),
                    ("overturned", "Overturned"),
                ],
                default="pending",
                help_text="Against the line's consensus once the line is agreed or approved.",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="transcription",
            index=models.Index(fields=["user", "-created_at", "-id"], name="label_user_recent_idx"),
        ),
        migrations.AddConstraint(
            model_name="linestatuscount",
            constraint=models.UniqueConstraint(
                fields=("day", "status"), name="line_status_count_unique"
            ),
        ),
        migrations.RunPython(compute_existing, migrations.RunPython.noop, elidable=True),
    ]
