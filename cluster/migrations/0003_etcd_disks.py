from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cluster", "0002_etcd_entry_key_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="simcluster",
            name="etcd_disks",
            field=models.JSONField(default=dict),
        ),
    ]
