# Issue #13, point 5: the operator's role(s) under the EU AI Act decide what applies.

from django.db import migrations, models


def single_role_to_list(apps, schema_editor):
    """Each system keeps its one role, now as a list: [old value]."""
    AISystem = apps.get_model("governance", "AISystem")
    for system in AISystem.objects.only("pk", "operator_role").iterator():
        AISystem.objects.filter(pk=system.pk).update(operator_roles=[system.operator_role])


def list_to_single_role(apps, schema_editor):
    """Back to one role: the first listed (provider before deployer when both, as OperatorRole orders them)."""
    AISystem = apps.get_model("governance", "AISystem")
    order = ["provider", "deployer", "importer", "distributor", "product_manufacturer"]
    for system in AISystem.objects.only("pk", "operator_roles").iterator():
        roles = [role for role in order if role in (system.operator_roles or [])]
        AISystem.objects.filter(pk=system.pk).update(operator_role=roles[0] if roles else "deployer")


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0005_framework_assessment_scale'),
    ]

    operations = [
        migrations.AddField(
            model_name='aisystem',
            name='operator_roles',
            field=models.JSONField(default=list),
        ),
        migrations.RunPython(single_role_to_list, list_to_single_role),
        migrations.RemoveField(
            model_name='aisystem',
            name='operator_role',
        ),
        migrations.AddField(
            model_name='euaiactclassification',
            name='general_purpose_model_provider',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='euaiactclassification',
            name='systemic_risk',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='euaiactclassification',
            name='annex_i_section_b',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='euaiactclassification',
            name='missing_answers',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='euaiactclassification',
            name='result',
            field=models.CharField(choices=[('prohibited', 'Prohibited practice (Art 5)'), ('high_risk_annex_i', 'High-risk: Annex I product safety (Art 6(1))'), ('high_risk_annex_iii', 'High-risk: Annex III (Art 6(2))'), ('not_high_risk_art_6_3', 'Not high-risk under the Art 6(3) derogation'), ('transparency_only', 'Transparency obligations only (Art 50)'), ('minimal', 'Minimal risk'), ('incomplete', 'Incomplete: answers missing')], max_length=30),
        ),
    ]
