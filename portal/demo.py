"""Demo data for the portal's own models: the nine districts, a few schools each, demo people;
and `app_demos()`, every app's demo loader, which `manage.py load_demo` runs.

Idempotent: every row is looked up by its natural key first, so running it twice changes nothing.
"""

from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from .models import District, Division, Membership, Role, School

DIVISIONS = [("資訊推廣組", "promo@ntpc.edu.tw"), ("系統平臺組", "platform@ntpc.edu.tw"),
             ("網管資安組", "netsec@ntpc.edu.tw")]  # fmt: skip

# (district, [(school, code, e-mail domain)]); the first school is the district's convener.
DISTRICTS = [
    ("板橋分區", [("江翠國中", "014501", "jtjhs"), ("板橋國小", "014601", "bcps"),
                  ("海山國中", "014502", "hsjh"), ("新埔國小", "014602", "spps")]),
    ("三重分區", [("三重國小", "014611", "scps"), ("明志國中", "014511", "mcjh"),
                  ("碧華國小", "014612", "bhps")]),
    ("新莊分區", [("新莊國小", "014621", "sjps"), ("新莊國中", "014521", "sjjh"),
                  ("頭前國中", "014522", "tcjh")]),
    ("文山分區", [("北新國小", "014631", "psps"), ("新店國小", "014632", "xdes"),
                  ("安坑國小", "014633", "akps")]),
    ("七星分區", [("汐止國小", "014641", "szps"), ("樟樹國中", "014541", "csjh"),
                  ("萬里國中", "014542", "wljh")]),
    ("淡水分區", [("淡水國小", "014651", "tsps"), ("三芝國小", "014652", "szes"),
                  ("石門國中", "014551", "smjh")]),
    ("雙和分區", [("永和國小", "014661", "yhps"), ("中和國小", "014662", "chps"),
                  ("積穗國中", "014561", "jsjh")]),
    ("三鶯分區", [("三峽國小", "014671", "sses"), ("鶯歌國小", "014672", "ykps"),
                  ("樹林國中", "014571", "sljh")]),
    ("瑞芳分區", [("瑞芳國小", "014681", "rfps"), ("瑞芳國中", "014581", "rfjh"),
                  ("平溪國中", "014582", "psjh")]),
]  # fmt: skip

DEMO_USERS = [
    # username, password, full name, e-mail, (role, school name, district name, division name)
    # 系統平臺組 follows up the seed's open items, so the demo clerk can file their 辦理情形
    ("bureau", "bureau-demo-108", "教育局資訊科系統平臺組承辦人", "bureau@ntpc.edu.tw",
     (Role.BUREAU, None, None, "系統平臺組")),
    ("coordinator", "coordinator-demo-108", "新店國小資訊組長", "it@xdes.ntpc.edu.tw",
     (Role.COORDINATOR, "新店國小", None, None)),
    ("convener", "convener-demo-108", "文山分區召集學校代表", "it@psps.ntpc.edu.tw",
     (Role.CONVENER, None, "文山分區", None)),
    ("admin", "admin-demo-108", "系統管理員", "admin@ntpc.edu.tw", (Role.ADMIN, None, None, None)),
]  # fmt: skip


@transaction.atomic
def load(stdout=None):
    for position, (name, email) in enumerate(DIVISIONS, start=1):
        Division.objects.get_or_create(name=name, defaults={"position": position, "email": email})
    for position, (district_name, schools) in enumerate(DISTRICTS, start=1):
        district, _ = District.objects.get_or_create(
            name=district_name, defaults={"position": position}
        )
        for school_name, code, domain in schools:
            School.objects.get_or_create(
                code=code,
                defaults={
                    "name": school_name,
                    "district": district,
                    "email_domain": f"{domain}.ntpc.edu.tw",
                },
            )
        if district.convener_school_id is None:
            district.convener_school = School.objects.get(code=schools[0][1])
            district.save(update_fields=["convener_school"])

    User = get_user_model()
    created = []
    for username, password, full_name, email, (role, school, district, division) in DEMO_USERS:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "email": email,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
            },
        )
        if was_created:
            user.set_password(password)
            user.save(update_fields=["password"])
            created.append(username)
        division = Division.objects.get(name=division) if division else None
        membership, _ = Membership.objects.get_or_create(
            user=user,
            role=role,
            school=School.objects.get(name=school) if school else None,
            district=District.objects.get(name=district) if district else None,
            defaults={"division": division},
        )
        if membership.division != division:  # a demo loaded before the clerk changed division
            membership.division = division
            membership.save(update_fields=["division"])
        # allauth looks e-mail addresses up in its own table for e-mail login and password reset
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    if stdout is not None:
        stdout.write("示範帳號（帳號 / 密碼）：")
        for username, password, full_name, *_ in DEMO_USERS:
            stdout.write(f"  {username:<12} {password:<22} {full_name}")
    return created


def app_demos():
    """[(app label, load)] for every app of the project with a `demo.py` (`load(stdout=None)`),
    found as Django finds admin modules, so the portal names none of them. In INSTALLED_APPS
    order: the foundation first, then meetings, then the apps that hang off a meeting (their demo
    data links to the seed minutes)."""
    found = []
    for config in apps.get_app_configs():
        if Path(config.path).resolve().parent != Path(settings.BASE_DIR).resolve():
            continue  # Django's and the libraries' apps
        if module_has_submodule(config.module, "demo"):
            found.append((config.label, import_module(f"{config.name}.demo").load))
    return found
