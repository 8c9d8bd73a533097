"""Demo data: the seed minutes' four rules, a hypervisor and a few school VMs with samples.
Idempotent: everything is looked up by its natural key first."""

import math
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.models import School

from .evaluation import SEED_RULES
from .hypervisors.base import libvirt_available
from .ingest import store
from .models import Hypervisor, Policy, PolicyVersion, Rule, UsageSample, VirtualMachine

ANNOUNCEMENT = (
    "依 108 年 9 月九大分區資訊組長會議（捌、二、(四)）：虛擬機房大量耗用資源限制，"
    "CPU 95% 以上連續 30 分鐘告警、100% 以上連續 30 分鐘暫停虛擬機；"
    "Network 23040KB (180Mb) 以上連續 30 分鐘告警、25600KB (200Mb) 以上連續 30 分鐘暫停虛擬機。"
    "後續再觀察使用及封鎖狀況，若有調整再另行公告。"
)

# (name, school code, uuid of the libvirt test driver's domain or None, usage profile)
DEMO_VMS = [
    ("test", "014632", "6695eb01-f6a4-8304-79aa-97f2502e193f", "busy"),
    ("xdes-web", "014632", None, "calm"),
    ("psps-moodle", "014631", None, "calm"),
    ("jtjhs-nas", "014501", None, "network"),
]


def _profile(kind, minute):
    if kind == "busy":  # a busy afternoon: 40 minutes near 97 % a few hours ago
        cpu = 97.0 if 180 <= minute < 220 else 20 + 10 * math.sin(minute / 30)
        return cpu, 300.0
    if kind == "network":
        return 8.0, 24000.0 if 300 <= minute < 340 else 2000.0
    return 5 + 3 * math.sin(minute / 50), 120.0


@transaction.atomic
def load(stdout=None):
    uri = settings.VMQUOTA_DEMO_HYPERVISOR_URI if libvirt_available() else "dryrun://demo"
    policy, _ = Policy.objects.get_or_create(pk=1)
    now = timezone.now().replace(second=0, microsecond=0)
    if not policy.versions.exists():
        version = PolicyVersion.objects.create(
            policy=policy, number=1, effective_from=now - timedelta(days=30),
            announcement=ANNOUNCEMENT, max_gap=timedelta(minutes=5), published_at=now,
        )  # fmt: skip
        for metric, threshold, action in SEED_RULES:
            Rule.objects.create(version=version, metric=metric, threshold=threshold,
                                duration=timedelta(minutes=30), action=action, mode="enforce")  # fmt: skip
    hv, _ = Hypervisor.objects.get_or_create(name="教網中心機房", defaults={"uri": uri})
    for name, code, uid, kind in DEMO_VMS:
        school = School.objects.filter(code=code).first()
        vm, created = VirtualMachine.objects.get_or_create(
            name=name,
            defaults={"hypervisor": hv, "uuid": uid or uuid.uuid5(uuid.NAMESPACE_DNS, name),
                      "vcpus": 2, "school": school, "state": "running"},
        )  # fmt: skip
        if created or not UsageSample.objects.filter(vm=vm).exists():
            start = now - timedelta(hours=12)
            store([(vm.pk, start + timedelta(minutes=m), *_profile(kind, m)) for m in range(720)])
    if stdout is not None:
        adapter = "libvirt" if libvirt_available() else "dry-run（未安裝 libvirt-python）"
        stdout.write(f"虛擬機房：{len(DEMO_VMS)} 台示範虛擬機，轉接器 {adapter}，主機 {uri}")
