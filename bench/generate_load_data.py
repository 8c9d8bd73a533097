"""The load benchmark's data:

    DATABASE_URL=postgres://…/portal_bench .venv/bin/python -m bench.generate_load_data [--scale full|small] [--seed N]


What it makes (on top of `load_demo`, which it runs first so the demo accounts and policy exist):
9 districts and 300 schools, 1 000 users with roles, 120 monthly published minutes (10 years)
with report items, motions and their search index (meetings' own `search_index_rebuild`), 500
tracked items with reviews, status updates and changes, one open survey answered by 300 schools,
20 000 audit events, and 2 000 VMs with one-minute samples: 35 days (~100 M rows) at the full
scale, 3 days at the small one. Samples are made inside the database (INSERT … SELECT
generate_series), never in Python.

Generated rows carry a mark (school codes `L…`, user names `load-…`, the series 「…（負載資料）」,
case numbers `…-G01`, the hypervisor 「負載測試機房」, the survey title, audit labels `load-…`).
A second run deletes exactly those rows first, so running it twice leaves one copy. The full scale
needs PostgreSQL (a 12 GB sample table is no job for SQLite).
"""

import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

if __name__ == "__main__":  # run as a script: Django before the models
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import BaseCommand, CommandError  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from portal.models import AuditEvent, District, Division, Membership, Role, School  # noqa: E402

MARK = "負載資料"
SCHOOL_PREFIX = "L"
USER_PREFIX = "load-"
SERIES_NAME = f"九大分區資訊組長聯席會議（{MARK}）"
HYPERVISOR_NAME = "負載測試機房"
SURVEY_TITLE = f"寒假青少年休閒育樂活動開辦調查表（{MARK}）"
CASE_LETTER = "G"
PASSWORD = "load-test-password-108"  # noqa: S105 – printed with the accounts; the bench logs in by session

SCALES = {
    # schools and users are totals (the demo's rows count); the rest is what is generated
    "full": {"schools": 300, "users": 1000, "meetings": 120, "tracked": 500, "vms": 2000,
             "sample_days": 35, "audit": 20000},
    "small": {"schools": 300, "users": 1000, "meetings": 120, "tracked": 500, "vms": 2000,
              "sample_days": 3, "audit": 20000},
}  # fmt: skip

SCHOOL_KINDS = ["國小", "國中", "高中", "實驗國小"]
PLACE_NAMES = list("東西南北中和平安福興仁義德信光明華新大同永樂文昌育英崇德秀峰龍山青山")
CATEGORIES = ["技能研習", "程式設計", "機器人", "數位藝術", "資訊安全"]


def log(out, message):
    out.write(f"[{time.strftime('%H:%M:%S')}] {message}")


class Command(BaseCommand):
    help = (
        "產生負載測試資料（300 校、1 000 人、10 年會議紀錄、500 列管事項、2 000 台虛擬機的樣本）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="full")
        parser.add_argument("--seed", type=int, default=108)
        parser.add_argument(
            "--sample-days", type=int, default=None, help="override the scale's days of samples"
        )
        parser.add_argument("--wipe-only", action="store_true", help="delete generated rows only")

    def handle(self, *args, scale, seed, sample_days, wipe_only, **options):
        sizes = dict(SCALES[scale])
        if sample_days is not None:
            sizes["sample_days"] = sample_days
        if connection.vendor != "postgresql" and sizes["sample_days"] > 3:
            raise CommandError(
                "完整規模需要 PostgreSQL（DATABASE_URL=postgres://…）；SQLite 請用 --scale small。"
            )
        self.rng = random.Random(seed)
        self.seed = seed
        out = self.stdout
        started = time.monotonic()
        # Publication notices and evaluations must not reach a broker another process reads
        # (make run's filesystem queue lives in the shared var/): tasks run inline, mail stays
        # in memory.
        from portal.celery import app

        app.conf.task_always_eager = True
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            call_command("migrate", interactive=False, verbosity=0)
            wipe(out)
            if wipe_only:
                return
            call_command("load_demo", stdout=_Quiet())
            now = timezone.now().replace(second=0, microsecond=0)
            with transaction.atomic():
                schools = self.make_schools(sizes["schools"])
                users = self.make_users(sizes["users"], schools)
                log(
                    out, f"學校 {School.objects.count()}，使用者 {get_user_model().objects.count()}"
                )
                meetings = self.make_meetings(sizes["meetings"], now)
                log(out, f"會議紀錄 {len(meetings)} 份（含搜尋索引）")
                items = self.make_tracked_items(sizes["tracked"], meetings, users)
                log(out, f"列管事項 {items}")
                self.make_survey(schools, users, now)
                self.make_audit(sizes["audit"], users, now)
                vms = self.make_vms(sizes["vms"], schools)
            self.make_samples(vms, sizes["sample_days"], now, out)
            self.make_incidents(vms, sizes["sample_days"], now)
        log(out, f"完成（{time.monotonic() - started:.0f} 秒）；帳號密碼皆為 {PASSWORD}")
        describe(out)

    # --- people --------------------------------------------------------------------------------

    def make_schools(self, total):
        districts = list(District.objects.order_by("position"))
        existing = School.objects.count()
        rows = []
        for n in range(max(0, total - existing)):
            district = districts[n % len(districts)]
            name = f"{self.rng.choice(PLACE_NAMES)}{self.rng.choice(PLACE_NAMES)}{n:03d}"
            kind = SCHOOL_KINDS[n % len(SCHOOL_KINDS)]
            code = f"{SCHOOL_PREFIX}{n + 1:05d}"
            rows.append(
                School(name=f"{name}{kind}", code=code, district=district,
                       email_domain=f"{code.lower()}.ntpc.edu.tw")
            )  # fmt: skip
        School.objects.bulk_create(rows)
        return list(School.objects.select_related("district").order_by("pk"))

    def make_users(self, total, schools):
        User = get_user_model()
        hashed = make_password(PASSWORD)  # one hash for all: hashing 1 000 times takes minutes
        count = max(0, total - User.objects.count())
        divisions = list(Division.objects.order_by("position"))
        districts = list(District.objects.order_by("position"))
        plan = []  # (username, role, school, district, division)
        for n in range(count):
            if n < 24:
                plan.append((f"{USER_PREFIX}bureau-{n + 1:02d}", Role.BUREAU, None, None,
                             divisions[n % len(divisions)]))  # fmt: skip
            elif n < 26:
                plan.append((f"{USER_PREFIX}admin-{n - 23}", Role.ADMIN, None, None, None))
            elif n < 26 + len(districts):
                plan.append((f"{USER_PREFIX}convener-{n - 25}", Role.CONVENER, None,
                             districts[n - 26], None))  # fmt: skip
            else:
                k = n - 26 - len(districts)
                plan.append((f"{USER_PREFIX}coordinator-{k + 1:04d}", Role.COORDINATOR,
                             schools[k % len(schools)], None, None))  # fmt: skip
        users = User.objects.bulk_create(
            User(username=u, password=hashed, full_name=f"負載{u.rsplit('-', 1)[-1]}號",
                 email=f"{u}@load.ntpc.edu.tw", is_staff=role == Role.ADMIN,
                 is_superuser=role == Role.ADMIN)
            for u, role, *_ in plan
        )  # fmt: skip
        Membership.objects.bulk_create(
            Membership(user=user, role=role, school=school, district=district, division=division)
            for user, (_, role, school, district, division) in zip(users, plan, strict=True)
        )
        return users

    # --- minutes -------------------------------------------------------------------------------

    def _sentences(self):
        """Every report item and motion of the seed minutes: realistic text to vary."""
        from meetings import importer
        from meetings.demo import SEED

        parsed = importer.parse(SEED.read_text(encoding="utf-8"))
        texts = []

        def walk(items):
            for item in items:
                texts.append(item.text)
                walk(item.children)

        for division in parsed.divisions:
            walk(division.items)
        motions = [(m.subject, m.explanation, m.resolution, m.proposer) for m in parsed.motions]
        return texts, motions

    def _vary(self, text, roc_year):
        return text.replace("108", str(roc_year)).replace("109", str(roc_year + 1))

    def make_meetings(self, count, now):
        from meetings.models import Meeting, MeetingSeries, Motion, ReportItem
        from meetings.services import search_index_rebuild

        texts, seed_motions = self._sentences()
        series, _ = MeetingSeries.objects.get_or_create(
            name=SERIES_NAME, defaults={"organiser": "新北市九大分區資訊組長專業社群召集學校"}
        )
        divisions = list(Division.objects.order_by("position"))
        today = timezone.localdate(now)
        first = date(today.year, today.month, 1)
        months = []
        y, m = first.year, first.month
        for _ in range(count):
            months.append(date(y, m, 10))
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        months.reverse()  # oldest first; the newest is this month (held on the 10th)
        meetings = []
        for held_on in months:
            roc = held_on.year - 1911
            published_at = timezone.make_aware(datetime.combine(held_on + timedelta(days=7),
                                                                datetime.min.time()))  # fmt: skip
            meeting = Meeting.objects.create(
                series=series, title=f"{roc} 年度 {held_on.month} 月份聯席會議",
                held_on=held_on, start_time=datetime(2000, 1, 1, 10).time(),
                adjourned_time=datetime(2000, 1, 1, 12).time(),
                place="新北市教育研究發展中心 3 樓網管會議室", chair="吳科長佳珊",
                recorder="吳安絜", status=Meeting.Status.PUBLISHED,
                published_at=min(published_at, now),
            )  # fmt: skip
            # level by level, as the importer does: a parent needs its id before its children
            tops = []
            for division in divisions:
                for position in range(1, self.rng.randint(5, 11) + 1):
                    tops.append(ReportItem(meeting=meeting, division=division, position=position,
                                           text=self._vary(self.rng.choice(texts), roc)))  # fmt: skip
            ReportItem.objects.bulk_create(tops)
            children = []
            for parent in tops:
                if self.rng.random() < 0.3:
                    for position in range(1, self.rng.randint(2, 5) + 1):
                        children.append(
                            ReportItem(meeting=meeting, division=parent.division, parent=parent,
                                       position=position,
                                       text=self._vary(self.rng.choice(texts), roc))
                        )  # fmt: skip
            ReportItem.objects.bulk_create(children)
            motions = []
            for kind, n in ((Motion.Kind.PROPOSAL, self.rng.randint(1, 3)),
                            (Motion.Kind.EXTEMPORE, self.rng.randint(0, 2))):  # fmt: skip
                for position in range(1, n + 1):
                    subject, explanation, resolution, proposer = self.rng.choice(seed_motions)
                    motions.append(
                        Motion(meeting=meeting, kind=kind, position=position,
                               subject=self._vary(subject, roc),
                               explanation=self._vary(explanation, roc),
                               resolution=self._vary(resolution, roc), proposer=proposer[:80])
                    )  # fmt: skip
            Motion.objects.bulk_create(motions)
            meetings.append(meeting)
        for meeting in meetings:  # after the items exist; labels are what the page shows
            search_index_rebuild(meeting=meeting)
        return meetings

    def make_tracked_items(self, count, meetings, users):
        """Items opened across the ten years (about four a meeting), each reviewed at the
        following meetings until closed; the last year's are mostly still open."""
        from tracking.models import Change, Review, StatusUpdate, TrackedItem

        divisions = list(Division.objects.order_by("position"))
        clerks = [u for u in users if u.username.startswith(f"{USER_PREFIX}bureau")]
        texts, _ = self._sentences()
        per_meeting = [0] * len(meetings)
        for n in range(count):
            per_meeting[n * len(meetings) // count] += 1
        items, plans = [], []
        for index, (meeting, k) in enumerate(zip(meetings, per_meeting, strict=True)):
            roc = meeting.held_on.year - 1911
            for seq in range(1, k + 1):
                remaining = len(meetings) - 1 - index
                if self.rng.random() < 0.08:
                    life = min(remaining + 1, self.rng.randint(12, 40))  # a long-lived one
                else:
                    life = min(remaining + 1, max(1, int(self.rng.expovariate(1 / 6)) + 1))
                closed = life <= remaining
                subject = self._vary(self.rng.choice(texts), roc)[:300]
                items.append(
                    TrackedItem(
                        case_no=f"{roc}-{meeting.held_on.month:02d}-{CASE_LETTER}{seq:02d}",
                        subject=subject, division=self.rng.choice(divisions),
                        origin_meeting=meeting, position=seq, opened_on=meeting.held_on,
                        state=TrackedItem.State.CLOSED if closed else TrackedItem.State.OPEN,
                    )
                )  # fmt: skip
                plans.append((index, life, closed))
        TrackedItem.objects.bulk_create(items)
        reviews, updates, changes = [], [], []
        for item, (index, life, closed) in zip(items, plans, strict=True):
            opened_at = timezone.make_aware(datetime.combine(item.opened_on, datetime.min.time()))
            changes.append(Change(item=item, field="state", old="", new="open",
                                  reason="會議決議列管", meeting=meetings[index], at=opened_at))  # fmt: skip
            previous = "/"
            last_update = None
            for step in range(1, life + 1):
                if index + step >= len(meetings):
                    break
                meeting = meetings[index + step]
                last = closed and step == life
                at = timezone.make_aware(
                    datetime.combine(meeting.held_on - timedelta(days=5), datetime.min.time())
                )
                status = self._vary(self.rng.choice(texts), meeting.held_on.year - 1911)[:400]
                review = Review(
                    item=item, meeting=meeting, position=0, previous_status=previous,
                    current_status=status, resolution="本案解列。" if last else "繼續列管。",
                    decision="close" if last else "continue", source="carry",
                    decided_at=at + timedelta(days=5),
                )  # fmt: skip
                reviews.append(review)
                updates.append((item, review, status, at, self.rng.choice(clerks)))
                previous, last_update = status, at
                if last:
                    changes.append(Change(item=item, field="state", old="open", new="closed",
                                          reason="本案解列。", meeting=meeting,
                                          at=at + timedelta(days=5)))  # fmt: skip
                    item.closed_on = meeting.held_on
                item.last_reviewed_on = meeting.held_on
            item.last_update_at = last_update
        positions = {}
        for review in reviews:
            positions[review.meeting_id] = positions.get(review.meeting_id, 0) + 1
            review.position = positions[review.meeting_id]
        Review.objects.bulk_create(reviews, batch_size=2000)
        StatusUpdate.objects.bulk_create(
            (StatusUpdate(item=item, review=review, author=clerk, text=text, created_at=at)
             for item, review, text, at, clerk in updates), batch_size=2000,
        )  # fmt: skip
        Change.objects.bulk_create(changes, batch_size=2000)
        TrackedItem.objects.bulk_update(
            items, ["last_update_at", "last_reviewed_on", "closed_on"], batch_size=500
        )
        open_count = sum(1 for _, _, closed in plans if not closed)
        return f"{len(items)}（列管中 {open_count}），審議 {len(reviews)}，辦理情形 {len(updates)}"

    # --- survey --------------------------------------------------------------------------------

    def make_survey(self, schools, users, now):
        from signups.models import Offer, Response, Status, StatusChange, Submission
        from signups.services import survey_create

        bureau = next(u for u in users if u.username.startswith(f"{USER_PREFIX}bureau"))
        year = timezone.localdate(now).year
        survey = survey_create(
            by=bureau, title=SURVEY_TITLE, opens_at=now - timedelta(days=10),
            closes_at=now + timedelta(days=20), school_year=year - 1911,
            instructions="負載測試用調查：每校填報寒假營隊。",
            categories="\n".join(CATEGORIES), window_label="寒假",
            activity_starts_on=date(year + 1, 1, 21), activity_ends_on=date(year + 1, 2, 10),
            blackouts=[("除夕及春假", date(year + 1, 1, 28), date(year + 1, 2, 3))],
        )  # fmt: skip
        statuses = [Status.SUBMITTED] * 9 + [Status.DRAFT] * 3 + [Status.DECLINED] * 4
        statuses += [Status.RETURNED] * 2 + [Status.NONE] * 2
        responses = [
            Response(survey=survey, school=school, status=self.rng.choice(statuses),
                     submitted_at=now - timedelta(hours=self.rng.randint(1, 200)))
            for school in schools
        ]  # fmt: skip
        Response.objects.bulk_create(responses)
        offers, changes, submissions = [], [], []
        for r in responses:
            if r.status in (Status.SUBMITTED, Status.DRAFT, Status.RETURNED):
                for position in range(1, self.rng.randint(1, 4) + 1):
                    start = date(year + 1, 1, 21) + timedelta(days=self.rng.randint(0, 5))
                    offers.append(Offer(
                        response=r, position=position, category=self.rng.choice(CATEGORIES),
                        course_name=f"{self.rng.choice(CATEGORIES)}營隊第 {position} 梯",
                        activity_starts_on=start, activity_ends_on=start + timedelta(days=2),
                        venue="電腦教室", fee=self.rng.choice([0, 300, 500]),
                        registration_starts_on=date(year, 12, 1),
                        registration_ends_on=date(year, 12, 20), grade_from=3, grade_to=6,
                        capacity=self.rng.choice([20, 25, 30]),
                    ))  # fmt: skip
            if r.status != Status.NONE:
                changes.append(StatusChange(response=r, event="saved", old_status="none",
                                            new_status="draft", at=now - timedelta(days=5)))  # fmt: skip
            if r.status in (Status.SUBMITTED, Status.DECLINED, Status.RETURNED):
                changes.append(StatusChange(response=r, event="submitted", old_status="draft",
                                            new_status="submitted", at=now - timedelta(days=3)))  # fmt: skip
                submissions.append(Submission(response=r, number=1, at=now - timedelta(days=3),
                                              declined=r.status == Status.DECLINED))  # fmt: skip
        Offer.objects.bulk_create(offers)
        StatusChange.objects.bulk_create(changes)
        Submission.objects.bulk_create(submissions)

    def make_audit(self, count, users, now):
        actions = ["login.success", "meetings.updated", "tracking.status_updated",
                   "signups.submitted", "vmquota.suspended", "access.denied"]  # fmt: skip
        AuditEvent.objects.bulk_create(
            (AuditEvent(at=now - timedelta(minutes=self.rng.randint(0, 200 * 24 * 60)),
                        actor=(user := self.rng.choice(users)), actor_label=user.username,
                        action=self.rng.choice(actions), target=f"負載 {n}", ip="127.0.0.1")
             for n in range(count)), batch_size=5000,
        )  # fmt: skip

    # --- VMs and samples -----------------------------------------------------------------------

    def make_vms(self, count, schools):
        from vmquota.models import Hypervisor, VirtualMachine

        hv = Hypervisor.objects.create(name=HYPERVISOR_NAME, uri="dryrun://load")
        VirtualMachine.objects.bulk_create(
            VirtualMachine(
                hypervisor=hv, name=f"{USER_PREFIX}vm-{n:04d}",
                uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                vcpus=self.rng.choice([1, 2, 2, 4, 8]),
                school=None if n % 50 == 7 else schools[n % len(schools)], state="running",
            )
            for n in range(1, count + 1)
        )  # fmt: skip
        return list(VirtualMachine.objects.filter(hypervisor=hv).order_by("pk"))

    def make_samples(self, vms, days, now, out):
        """One sample a minute per VM for `days` days, one statement per day (a short commit
        each, and progress on the way). Every 50th VM is busy at 97 % CPU for 40 minutes each
        afternoon; the others follow a calm daily curve with noise."""
        from vmquota.models import EvaluationCursor, VirtualMachine

        ids = [vm.pk for vm in vms]
        start = now - timedelta(days=days)
        total = 0
        t0 = time.monotonic()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setseed(%s)", [(self.seed % 1000) / 1000])
                cursor.execute("SET synchronous_commit = off")  # one bench load, not ledger data
                # The foreign key's deferred trigger queues one event per row (a third of the
                # time); the VM ids come from the VM table, so a superuser load skips triggers.
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cursor.fetchone()[0]:
                    cursor.execute("SET session_replication_role = replica")
            # Many days: drop the secondary indexes and build them once at the end (a third of
            # the time); their exact definitions are read from the catalog and always restored.
            rebuild = _drop_secondary_indexes(cursor) if days > 3 else []
            try:
                for day in range(days):
                    lo = start + timedelta(days=day)
                    hi = min(lo + timedelta(days=1), now)
                    with transaction.atomic():
                        total += self._insert_day(cursor, ids, vms[0].hypervisor_id, lo, hi)
                    rate = total / (time.monotonic() - t0)
                    log(out, f"樣本 第 {day + 1}/{days} 天：累計 {total:,} 筆（{rate:,.0f} 筆/秒）")
            finally:
                if rebuild:
                    log(out, f"重建索引 {len(rebuild)} 個…")
                    cursor.execute("SET maintenance_work_mem = '1GB'")
                    for statement in rebuild:
                        cursor.execute(statement)
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
                cursor.execute("ANALYZE vmquota_usagesample")
        # the live evaluator starts after the generated history, as if it had kept up
        last = now - timedelta(minutes=1)
        VirtualMachine.objects.filter(pk__in=ids).update(last_sample_at=last)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM vmquota_usagesample")
            max_id = cursor.fetchone()[0]
        EvaluationCursor.objects.update_or_create(
            pk=1, defaults={"last_sample_id": max_id, "updated_at": now}
        )

    def _insert_day(self, cursor, ids, hypervisor_id, lo, hi):
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                INSERT INTO vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps)
                SELECT v.id, t,
                       CASE WHEN v.id %% 50 = 0
                             AND extract(hour FROM t AT TIME ZONE 'Asia/Taipei') = 14
                             AND extract(minute FROM t) < 40
                            THEN 97 + random()
                            ELSE least(100, greatest(0,
                                 20 + 15 * sin(extract(epoch FROM t) / 13751.0 + v.id)
                                 + 10 * random())) END,
                       200 + 800 * random()
                -- time-major, like a table appended to every minute (LATERAL keeps that order)
                FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute',
                                     interval '1 minute') AS t,
                     LATERAL unnest(%s::bigint[]) AS v(id)
                """,
                [lo, hi, ids],
            )
            return cursor.rowcount
        # SQLite (small scale only): a recursive CTE of minutes, still inside the database
        minutes = int((hi - lo).total_seconds() // 60)
        cursor.execute(
            """
            INSERT OR IGNORE INTO vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps)
            WITH RECURSIVE m(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM m WHERE n + 1 < %s)
            SELECT v.id, strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, '+' || m.n || ' minutes'),
                   CASE WHEN v.id %% 50 = 0 AND (m.n %% 1440) BETWEEN 360 AND 399 THEN 97.5
                        ELSE 10 + abs(random() %% 400) / 10.0 END,
                   200 + abs(random() %% 8000) / 10.0
            FROM m CROSS JOIN vmquota_virtualmachine v WHERE v.hypervisor_id = %s
            """,
            [minutes, lo.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), hypervisor_id],
        )
        return cursor.rowcount

    def make_incidents(self, vms, days, now):
        """The busy VMs' daily streaks as the evaluator would have recorded them (ended
        incidents of the CPU ≥ 95 alert rule, each with its done alert action)."""
        from vmquota.models import Action, Incident, PolicyVersion

        version = (
            PolicyVersion.objects.filter(published_at__isnull=False).order_by("-number").first()
        )
        rule = (
            version.rules.filter(metric="cpu_percent", action="alert").first() if version else None
        )
        if rule is None:
            return
        tz = timezone.get_default_timezone()
        incidents = []
        for vm in vms:
            if vm.pk % 50:
                continue
            for day in range(days):
                d = timezone.localdate(now) - timedelta(days=day)
                start = datetime(d.year, d.month, d.day, 14, 0, tzinfo=tz)
                if start + timedelta(minutes=40) > now or start < now - timedelta(days=days):
                    continue
                incidents.append(Incident(
                    vm=vm, rule=rule, streak_start=start, fired_at=start + timedelta(minutes=30),
                    ended_at=start + timedelta(minutes=40), end_reason="recovered",
                    first_value=97.0, fired_value=97.0, last_sample_at=start + timedelta(minutes=39),
                ))  # fmt: skip
        Incident.objects.bulk_create(incidents, batch_size=2000)
        Action.objects.bulk_create(
            (Action(vm_id=i.vm_id, incident=i, kind="alert", status="done", attempts=1,
                    finished_at=i.fired_at, created_at=i.fired_at) for i in incidents),
            batch_size=2000,
        )  # fmt: skip


def _drop_secondary_indexes(cursor):
    """Drop the sample table's indexes except its primary key; returns the statements that
    recreate them exactly (names and definitions from the catalog)."""
    if connection.vendor != "postgresql":
        return []
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'vmquota_usagesample'::regclass AND contype = 'u'"
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = "
        "'vmquota_usagesample' AND i.indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE conrelid = 'vmquota_usagesample'::regclass)"
    )
    indexes = cursor.fetchall()
    rebuild = []
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE vmquota_usagesample DROP CONSTRAINT "{name}"')
        rebuild.append(f'ALTER TABLE vmquota_usagesample ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
        rebuild.append(definition)
    return rebuild


class _Quiet:
    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass


def wipe(out):
    """Delete every generated row (and only those), children before parents."""
    from meetings.models import Meeting, MeetingSeries
    from signups.models import Survey
    from tracking.models import TrackedItem
    from vmquota.models import Hypervisor, VirtualMachine

    vm_ids = list(
        VirtualMachine.objects.filter(hypervisor__name=HYPERVISOR_NAME).values_list("pk", flat=True)
    )
    if vm_ids:
        t0 = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # TRUNCATE takes seconds where DELETE of 100 M rows takes an hour; the few
                # samples of other VMs (the demo's) are kept aside and put back.
                cursor.execute(
                    "CREATE TEMP TABLE keep_samples ON COMMIT DROP AS SELECT vm_id, ts, "
                    "cpu_percent, net_kbps FROM vmquota_usagesample WHERE vm_id <> ALL(%s)",
                    [vm_ids],
                )
                cursor.execute("TRUNCATE vmquota_usagesample")
                cursor.execute(
                    "INSERT INTO vmquota_usagesample (vm_id, ts, cpu_percent, net_kbps) "
                    "SELECT * FROM keep_samples"
                )
            else:
                cursor.execute(
                    "DELETE FROM vmquota_usagesample WHERE vm_id IN (SELECT v.id FROM "
                    "vmquota_virtualmachine v JOIN vmquota_hypervisor h ON h.id = v.hypervisor_id "
                    "WHERE h.name = %s)",
                    [HYPERVISOR_NAME],
                )
        log(out, f"已刪除先前產生的樣本（{time.monotonic() - t0:.0f} 秒）")
    with transaction.atomic():
        VirtualMachine.objects.filter(pk__in=vm_ids).delete()
        Hypervisor.objects.filter(name=HYPERVISOR_NAME).delete()
        Survey.objects.filter(title=SURVEY_TITLE).delete()
        TrackedItem.objects.filter(case_no__contains=f"-{CASE_LETTER}").filter(
            origin_meeting__series__name=SERIES_NAME
        ).delete()
        Meeting.objects.filter(series__name=SERIES_NAME).delete()
        MeetingSeries.objects.filter(name=SERIES_NAME).delete()
        AuditEvent.objects.filter(actor_label__startswith=USER_PREFIX).delete()
        get_user_model().objects.filter(username__startswith=USER_PREFIX).delete()
        School.objects.filter(code__startswith=SCHOOL_PREFIX).delete()


def counts():
    """The data size, as the benchmark reports it."""
    from meetings.models import Meeting, ReportItem, SearchEntry
    from signups.models import Offer, Response
    from tracking.models import Review, StatusUpdate, TrackedItem
    from vmquota.models import VirtualMachine

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the exact count of 100 M rows takes a minute; the planner's estimate is enough
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = 'vmquota_usagesample'"
            )
        else:
            cursor.execute("SELECT COUNT(*) FROM vmquota_usagesample")
        samples = cursor.fetchone()[0]
    return {
        "districts": District.objects.count(),
        "schools": School.objects.count(),
        "users": get_user_model().objects.count(),
        "meetings": Meeting.objects.filter(status="published").count(),
        "report_items": ReportItem.objects.count(),
        "search_entries": SearchEntry.objects.count(),
        "tracked_items": TrackedItem.objects.count(),
        "reviews": Review.objects.count(),
        "status_updates": StatusUpdate.objects.count(),
        "survey_responses": Response.objects.count(),
        "offers": Offer.objects.count(),
        "vms": VirtualMachine.objects.count(),
        "samples": samples,
        "audit_events": AuditEvent.objects.count(),
    }


def describe(out):
    out.write("；".join(f"{k} {v:,}" for k, v in counts().items()))


if __name__ == "__main__":
    Command().run_from_argv([sys.argv[0], "generate_load_data", *sys.argv[1:]])
