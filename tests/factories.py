"""Factories for the people and places the tests talk about."""

import factory
from django.contrib.auth import get_user_model

from portal.models import District, Division, Membership, Role, School

PASSWORD = "correct horse battery staple"


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"第{n}分區")
    position = factory.Sequence(int)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"測試{n}國小")
    code = factory.Sequence(lambda n: f"T{n:05d}")
    district = factory.SubFactory(DistrictFactory)
    email_domain = factory.LazyAttribute(lambda s: f"{s.code.lower()}.ntpc.edu.tw")


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ["name"]

    name = "資訊推廣組"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@ntpc.edu.tw")
    full_name = factory.LazyAttribute(lambda u: u.username)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def coordinator_of(school, username=None, **kwargs):
    user = UserFactory(username=username or f"coord-{school.code}", **kwargs)
    Membership.objects.get_or_create(user=user, role=Role.COORDINATOR, school=school)
    return user


def convener_of(district, username=None):
    user = UserFactory(username=username or f"convener-{district.pk}")
    Membership.objects.get_or_create(user=user, role=Role.CONVENER, district=district)
    return user


def bureau_staff(username="bureau-staff", division=None):
    user = UserFactory(username=username, full_name="教育局承辦人")
    Membership.objects.get_or_create(user=user, role=Role.BUREAU, defaults={"division": division})
    return user


def admin_user(username="sysadmin"):
    user = UserFactory(username=username, is_superuser=True, is_staff=True)
    Membership.objects.get_or_create(user=user, role=Role.ADMIN)
    return user
