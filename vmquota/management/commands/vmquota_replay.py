"""Replay a CSV trace against the policy, with no side effects:

    python manage.py vmquota_replay TRACE.csv [--policy VERSION_ID] --json

Without --policy: the active published version, or the seed minutes' four rules when the
database has none. Prints the incidents as a JSON array.
"""

import json as jsonlib
import zoneinfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vmquota import evaluation
from vmquota.ingest import parse_rows, read_csv


class Command(BaseCommand):
    help = "Replay usage samples (vm,ts,cpu_percent,net_kbps) against the policy; print incidents."

    def add_arguments(self, parser):
        parser.add_argument("trace")
        parser.add_argument("--policy", type=int, help="policy version id (default: active)")
        parser.add_argument("--json", action="store_true", help="print a JSON array")

    def handle(self, trace, policy=None, **options):
        specs, max_gap = self._rules(policy)
        try:
            with open(trace, encoding="utf-8") as f:
                rows = read_csv(f.read())
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        parsed, errors = parse_rows(rows, from_text=True, check_window=False)
        if errors:
            raise CommandError(
                "\n".join(f"第 {e.index + 2} 行 {e.field}：{e.message}" for e in errors[:20])
            )
        samples = [(vm, ts, cpu, net) for _, vm, ts, cpu, net in parsed]
        incidents = evaluation.replay(samples, specs, max_gap)
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        out = [evaluation.incident_json(inc, tz) for inc in incidents]
        if options.get("json"):
            self.stdout.write(_dumps(out))
        else:
            for inc in out:
                self.stdout.write(
                    f"{inc['vm']} {inc['metric']}≥{inc['threshold']} {inc['action']} "
                    f"{inc['streak_start']} → {inc['fired_at']} … {inc['ended_at']} {inc['end_reason']}"
                )

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


def _dumps(data):
    return jsonlib.dumps(data, ensure_ascii=False, indent=2)
