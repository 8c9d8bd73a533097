"""Collector tokens get a scope (issue 19): the hosts whose VMs they may post for, or a school.

Tokens made before this could post for any VM. What they posted for cannot be told afterwards
(samples do not record their token), so there is no narrower scope to derive. Leaving them with
no scope would be the strictest choice, but every collector would stop at once, and with no data
nothing is enforced – the opposite of what the scope is for. So each live token is scoped to the
hosts that exist now: it keeps working for today's VMs, a host added later is outside it, and
`scope_from_migration` marks it so that /vmquota/tokens/ asks the bureau to issue a narrower token
and revoke this one. Revoked tokens get no scope at all.
"""

import django.db.models.deletion
from django.db import migrations, models


def scope_live_tokens_to_current_hosts(apps, schema_editor):
    CollectorToken = apps.get_model("vmquota", "CollectorToken")
    Hypervisor = apps.get_model("vmquota", "Hypervisor")
    hosts = list(Hypervisor.objects.all())
    for token in CollectorToken.objects.filter(revoked_at__isnull=True):
        token.hypervisors.set(hosts)
        token.scope_from_migration = True
        token.save(update_fields=["scope_from_migration"])


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0004_user_sessions'),
        ('vmquota', '0005_samples_lock_trigger'),
    ]

    operations = [
        migrations.AddField(
            model_name='collectortoken',
            name='hypervisors',
            field=models.ManyToManyField(blank=True, related_name='collector_tokens', to='vmquota.hypervisor', verbose_name='收集範圍：主機'),
        ),
        migrations.AddField(
            model_name='collectortoken',
            name='school',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='portal.school', verbose_name='收集範圍：學校'),
        ),
        migrations.AddField(
            model_name='collectortoken',
            name='scope_from_migration',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(scope_live_tokens_to_current_hosts, migrations.RunPython.noop),
    ]
