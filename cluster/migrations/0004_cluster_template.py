from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cluster", "0003_etcd_disks"),
    ]

    operations = [
        migrations.AddField(
            model_name="simcluster",
            name="template",
            field=models.JSONField(default=dict),
        ),
    ]
