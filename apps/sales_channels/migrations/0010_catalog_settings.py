from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sales_channels", "0009_customers_privacy"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="products_enabled",
            field=models.BooleanField(
                default=False,
                help_text="Publish name, sales description, SKU, barcode, weight, list price, "
                "variants and images of the bound products from Odoo",
            ),
        ),
        migrations.AddField(
            model_name="channel",
            name="products_create_missing",
            field=models.BooleanField(
                default=False,
                help_text="Also create on the channel the Odoo products it does not have yet",
            ),
        ),
    ]
