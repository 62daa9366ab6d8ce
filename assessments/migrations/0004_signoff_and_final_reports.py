# Issue #13, points 2 and 3: four-eyes approval, auditor attestations, Final reports from the locked snapshot.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0003_inference_and_machine_evidence'),
        ('governance', '0004_checkpoint_upload_per_organisation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='requirementresult',
            name='not_assessed_reason',
            field=models.TextField(blank=True),
        ),
        migrations.CreateModel(
            name='ReportAttestation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('attested_at', models.DateTimeField()),
                ('report_sha256', models.CharField(max_length=64)),
                ('comment', models.TextField(blank=True)),
                ('attested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                  related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                                   to='governance.organisation')),
                ('report', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                             related_name='attestations', to='assessments.report')),
            ],
            options={
                'ordering': ['attested_at', 'id'],
                'constraints': [models.UniqueConstraint(fields=('report', 'attested_by'),
                                                        name='one_attestation_per_auditor')],
            },
        ),
    ]
