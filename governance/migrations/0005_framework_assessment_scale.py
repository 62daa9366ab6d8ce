# Frameworks declare how their results are worded: conformity (compliant / non-compliant) or guidance
# (addressed / not addressed). Existing rows are conformity until `load_catalogs` reads the catalog files.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0004_checkpoint_upload_per_organisation'),
    ]

    operations = [
        migrations.AddField(
            model_name='framework',
            name='assessment_scale',
            field=models.CharField(choices=[('conformity', 'Conformity (compliant / partially compliant / non-compliant)'), ('guidance', 'Guidance (addressed / partly addressed / not addressed)')], default='conformity', max_length=20),
        ),
    ]
