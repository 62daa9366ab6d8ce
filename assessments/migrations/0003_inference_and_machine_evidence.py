# Issue #13, points 1 and 4: inferred results keep their sources; machine evidence and its annotations.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0002_result_by_assessment_index'),
        ('governance', '0004_checkpoint_upload_per_organisation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='requirementresult',
            name='inference_confirmed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='requirementresult',
            name='inference_confirmed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.CreateModel(
            name='EvidenceAnnotation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name='+', to=settings.AUTH_USER_MODEL)),
                ('evidence', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                               related_name='annotations', to='assessments.evidence')),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                   related_name='+', to='governance.organisation')),
            ],
            options={
                'ordering': ['evidence_id', 'created_at', 'id'],
            },
        ),
    ]
