"""Decisions record who (or no one, for labelers' flags) and the status they started from;
gold holds record who cleared them; superusers' views of private rows are logged.

Data: moderation never applies to private documents any more, so their lines that a moderator
approved or rejected go back to the owner's reading (their text if they gave one, else open),
and a rejected line stops being a gold line.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def give_decisions_back(apps, schema_editor):
    Line = apps.get_model("labeling", "Line")
    Transcription = apps.get_model("labeling", "Transcription")
    taken = (
        Line.objects.filter(status__in=["approved", "rejected"])
        .exclude(page__document__visibility="pool")
        .select_related("page__document")
    )
    for line in taken:
        owner_label = Transcription.objects.filter(
            line=line, user_id=line.page.document.owner_id
        ).first()
        line.status = "agreed" if owner_label else "open"
        line.consensus_text = owner_label.text if owner_label else ""
        line.agreement = 1.0 if owner_label else None
        line.gold_text = line.flag = ""
        line.save(update_fields=["status", "consensus_text", "agreement", "gold_text", "flag"])
    Line.objects.filter(status="rejected").exclude(gold_text="").update(gold_text="")


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0007_line_gold_idx"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="moderationdecision",
            options={"ordering": ["-created_at", "-pk"]},
        ),
        migrations.AddField(
            model_name="goldscore",
            name="cleared_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The moderator who last cleared the hold.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="moderationdecision",
            name="from_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("new", "New"),
                    ("open", "Open"),
                    ("agreed", "Agreed"),
                    ("disputed", "Disputed"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                ],
                help_text="The line's status before the decision.",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="moderationdecision",
            name="action",
            field=models.CharField(
                choices=[
                    ("approve", "Approved"),
                    ("reject", "Rejected"),
                    ("reopen", "Reopened"),
                    ("make_gold", "Made a gold line"),
                    ("flag", "Flagged by labelers' skips"),
                ],
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="moderationdecision",
            name="moderator",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty when no moderator took it (e.g. labelers' skips flagged the line).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="decisions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="moderationdecision",
            name="text",
            field=models.TextField(blank=True, help_text="The approved text, or the gold answer."),
        ),
        migrations.CreateModel(
            name="PrivateAccess",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "what",
                    models.CharField(
                        help_text="The kind of row, e.g. labeling.line.", max_length=100
                    ),
                ),
                ("object_id", models.PositiveBigIntegerField()),
                ("path", models.TextField(help_text="The address that was opened.")),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "private access",
                "verbose_name_plural": "private accesses",
                "ordering": ["-at", "-pk"],
            },
        ),
        migrations.RunPython(give_decisions_back, migrations.RunPython.noop),
    ]
