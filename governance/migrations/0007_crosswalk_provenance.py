# Issue #13, point 6: every crosswalk row names its source, or is the product's own mapping with a rationale.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0006_operator_roles'),
    ]

    operations = [
        migrations.AlterField(
            model_name='crosswalk',
            name='rationale',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='is_own_mapping',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='source_document',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='source_publisher',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='source_version',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='source_url',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='source_locator',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='reviewer',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='crosswalk',
            name='citation',
            field=models.CharField(blank=True, max_length=300),
        ),
    ]
