from django.db import migrations, models


def fill_mailbox(apps, schema_editor):
    from accounts.mailbox import normalise_mailbox

    OfferCode = apps.get_model("offers", "OfferCode")
    seen = set()
    # Oldest first: where two existing codes share a mailbox, the first keeps it; the later one
    # stays usable by its own address but blocks nothing (NULL is not unique).
    for code in OfferCode.objects.order_by("issued_at", "pk"):
        mailbox = normalise_mailbox(code.email)
        if mailbox not in seen:
            seen.add(mailbox)
            OfferCode.objects.filter(pk=code.pk).update(mailbox=mailbox)


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="offercode",
            name="mailbox",
            field=models.EmailField(blank=True, editable=False, max_length=254, null=True, unique=True),
        ),
        migrations.RunPython(fill_mailbox, migrations.RunPython.noop),
    ]
