"""Every outcome value gets its visit's date (SPEC §10): the clinic-local date
of the booked start, else of the completion (a home or back-entered visit),
else of when it was recorded. Historical rows are filled from their session
the same way, so that no version of a value is undated."""

import zoneinfo

from django.db import migrations, models


def _visit_day(session, recorded_at):
    tz = zoneinfo.ZoneInfo(session.clinic.timezone)
    moment = session.start or session.completed_at or recorded_at
    return moment.astimezone(tz).date()


def fill_observed_on(apps, schema_editor):
    Session = apps.get_model("treatment_sessions", "Session")
    for model_name in ("OutcomeMeasurement", "HistoricalOutcomeMeasurement"):
        model = apps.get_model("treatment_sessions", model_name)
        rows = model.objects.filter(observed_on__isnull=True)
        sessions = Session.objects.select_related("clinic").in_bulk({row.session_id for row in rows})
        for row in rows.iterator():
            row.observed_on = _visit_day(sessions[row.session_id], row.recorded_at)
            row.save(update_fields=["observed_on"])


class Migration(migrations.Migration):

    dependencies = [
        ("treatment_sessions", "0003_outcome_items"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaloutcomemeasurement",
            name="observed_on",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="outcomemeasurement",
            name="observed_on",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(fill_observed_on, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="historicaloutcomemeasurement",
            name="observed_on",
            field=models.DateField(),
        ),
        migrations.AlterField(
            model_name="outcomemeasurement",
            name="observed_on",
            field=models.DateField(),
        ),
    ]
