"""One code per mailbox by a hash of the normalised address (issue 18), so the
rule survives the erasure of the address itself."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    from offers.models import mailbox_hash

    OfferCode = apps.get_model("offers", "OfferCode")
    seen = set()
    for code in OfferCode.objects.order_by("issued_at", "pk").only("pk", "email"):
        digest = mailbox_hash(code.email)
        if digest in seen:
            continue  # an older rule let this mailbox claim twice; the first code keeps the hash
        seen.add(digest)
        OfferCode.objects.filter(pk=code.pk).update(mailbox_hash=digest)


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="offercode",
            name="mailbox_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
