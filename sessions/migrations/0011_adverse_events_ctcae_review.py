"""Adverse events follow CTCAE v5 (clinical/instruments.md, corrections):
severity is the grade's (1 mild, 2 moderate, 3-5 severe), grade 5 exactly
when the outcome is fatal, a resolution date exactly when the outcome is
recovered (with or without sequelae).

Events recorded before these rules that break one are flagged for a
clinician's review (`review_reason` says what disagrees), not rewritten:
which of the two disagreeing fields is wrong is a clinical judgement. The
constraint then holds for every row: consistent, or flagged. An update
through the API must make the event consistent, and clears the flag."""

from django.conf import settings
from django.db import migrations, models

# A copy of sessions.adverse_events.ctcae_disagreements as of this migration.
SEVERITY_OF_GRADE = {1: "mild", 2: "moderate", 3: "severe", 4: "severe", 5: "severe"}
RESOLVED = ("recovered", "recovered_with_sequelae")


def disagreements(event) -> list[str]:
    problems = []
    words = event.outcome.replace("_", " ")
    if event.grade is not None and event.severity and event.severity != SEVERITY_OF_GRADE[event.grade]:
        problems.append(f"severity {event.severity} beside CTCAE grade {event.grade} ({SEVERITY_OF_GRADE[event.grade]})")
    if event.grade == 5 and event.outcome != "fatal":
        problems.append(f"grade 5 (death) with the outcome {words}")
    elif event.outcome == "fatal" and event.grade != 5:
        problems.append(f"a fatal outcome at grade {event.grade}")
    if event.outcome in RESOLVED and event.resolved_date is None:
        problems.append(f"{words} without a resolution date")
    elif event.outcome not in RESOLVED and event.resolved_date is not None:
        problems.append(f"a resolution date with the outcome {words}")
    return problems


def flag_for_review(apps, schema_editor):
    AdverseEvent = apps.get_model("treatment_sessions", "AdverseEvent")
    for event in AdverseEvent.objects.only("grade", "severity", "outcome", "resolved_date").iterator():
        problems = disagreements(event)
        if problems:
            reason = "Recorded before the CTCAE v5 consistency rules: " + "; ".join(problems) + "."
            AdverseEvent.objects.filter(pk=event.pk).update(review_reason=reason[:500])


def unflag(apps, schema_editor):
    apps.get_model("treatment_sessions", "AdverseEvent").objects.update(review_reason="")


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0006_merge_follow_up_kept'),
        ('treatment_sessions', '0010_merge_indexes_for_scale'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='adverseevent',
            name='review_reason',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name='historicaladverseevent',
            name='review_reason',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.RunPython(flag_for_review, unflag),
        migrations.AddConstraint(
            model_name='adverseevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(models.Q(('grade__isnull', True), models.Q(('grade', 1), ('severity', 'mild')), models.Q(('grade', 2), ('severity', 'moderate')), models.Q(('grade__gte', 3), ('severity', 'severe')), _connector='OR'), models.Q(models.Q(('grade', 5), ('outcome', 'fatal')), models.Q(models.Q(('outcome', 'fatal'), _negated=True), models.Q(('grade__isnull', True), models.Q(('grade', 5), _negated=True), _connector='OR')), _connector='OR'), models.Q(models.Q(('outcome__in', ('recovered', 'recovered_with_sequelae')), ('resolved_date__isnull', False)), models.Q(models.Q(('outcome__in', ('recovered', 'recovered_with_sequelae')), _negated=True), ('resolved_date__isnull', True)), _connector='OR')), models.Q(('review_reason', ''), _negated=True), _connector='OR'), name='adverse_event_ctcae_consistent'),
        ),
    ]
