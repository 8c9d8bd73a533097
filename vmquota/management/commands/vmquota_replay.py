"""Replay a CSV trace against the policy, with no side effects:

    python manage.py vmquota_replay TRACE.csv [--policy VERSION_ID] --json

Without --policy: the active published version, or the seed minutes' four rules when the
database has none. Prints the incidents as a JSON array: what `python -m vmquota.replay` prints
(the same reader, fold and output, without Django's start-up) for the seed rules.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vmquota import evaluation, replay


class Command(BaseCommand):
    help = "Replay usage samples (vm,ts,cpu_percent,net_kbps) against the policy; print incidents."

    def add_arguments(self, parser):
        parser.add_argument("trace")
        parser.add_argument("--policy", type=int, help="policy version id (default: active)")
        parser.add_argument("--json", action="store_true", help="print a JSON array")

    def handle(self, trace, policy=None, **options):
        specs, max_gap = self._rules(policy)
        try:
            incidents = replay.replay_file(trace, specs, max_gap)
        except replay.TraceError as exc:
            raise CommandError(str(exc)) from exc
        text = replay.render(incidents, options.get("json"), settings.TIME_ZONE)
        if text:
            self.stdout.write(text)

    def _rules(self, version_id):
        from django.db import DatabaseError

        from vmquota.models import PolicyVersion
        from vmquota.policy import active_version, rule_specs

        try:
            if version_id is not None:
                version = PolicyVersion.objects.filter(pk=version_id).first()
                if version is None:
                    raise CommandError(f"沒有編號 {version_id} 的政策版本")
            else:
                version = active_version()
        except DatabaseError:
            version = None  # no database yet: the seed's rules
        if version is None:
            return evaluation.seed_rule_specs(), evaluation.DEFAULT_MAX_GAP
        # a replay judges the whole trace by this version: no effective_from cut-off
        specs = [
            evaluation.RuleSpec(s.key, s.metric, s.threshold, s.duration, s.action, s.mode)
            for s in rule_specs(version)
        ]
        return specs, version.max_gap
