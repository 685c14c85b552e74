"""The catalogue's corrections (clinical/instruments.md): a measure says
whether it is an ordinal grade or class (change in points, never a percent),
Hamilton-Norwood among them though decimal, and EASI-90 joins EASI's
responder definitions.

No percent change is stored: the outcomes API, the cohort report and the
export compute it from `ordinal` on every read, so setting the flag here is
what recomputes Norwood's (now null, its change in points kept)."""

from django.db import migrations, models

# As in protocols.library at the time of writing (a migration keeps its own copy).
ORDINAL_CODES = (
    "glogau", "iga", "itch_nrs", "scar_grade", "vss", "pain_vas", "erythema_grade", "norwood", "ludwig",
)
EASI_RESPONDERS = [
    {"code": "easi_50", "label": "EASI-50", "kind": "percent_reduction", "percent": 50},
    {"code": "easi_75", "label": "EASI-75", "kind": "percent_reduction", "percent": 75},
    {"code": "easi_90", "label": "EASI-90", "kind": "percent_reduction", "percent": 90},
]


def correct_catalogue(apps, schema_editor):
    OutcomeMeasure = apps.get_model("protocols", "OutcomeMeasure")
    OutcomeMeasure.objects.filter(models.Q(code__in=ORDINAL_CODES) | models.Q(value_type="score")).update(ordinal=True)
    OutcomeMeasure.objects.filter(code="easi").update(responders=EASI_RESPONDERS)


def restore_catalogue(apps, schema_editor):
    OutcomeMeasure = apps.get_model("protocols", "OutcomeMeasure")
    OutcomeMeasure.objects.filter(code="easi").update(responders=EASI_RESPONDERS[:2])


class Migration(migrations.Migration):

    dependencies = [
        ("protocols", "0006_merge_library_edition"),
    ]

    operations = [
        migrations.AddField(
            model_name="outcomemeasure",
            name="ordinal",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(correct_catalogue, restore_catalogue),
        migrations.AddConstraint(
            model_name="outcomemeasure",
            constraint=models.CheckConstraint(
                condition=models.Q(("ordinal", True), models.Q(("value_type", "score"), _negated=True), _connector="OR"),
                name="measure_score_is_ordinal",
            ),
        ),
    ]
