"""Indexes for the admin's lists at a million lines (`bench/pages_load.py`): documents and
moderators' decisions newest first a page at a time, and lines by status for the review
filter's counts."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0019_label_verdicts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="document",
            index=models.Index(fields=["-created_at", "-id"], name="document_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="moderationdecision",
            index=models.Index(fields=["-created_at", "-id"], name="decision_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="line",
            index=models.Index(fields=["status", "flag"], name="line_review_idx"),
        ),
    ]
