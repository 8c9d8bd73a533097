"""No URL of the portal sends a person off-site because a parameter said so (open redirects)."""

from urllib.parse import urlparse

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

EVIL = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example"]


def stays_here(response):
    location = response.headers.get("Location", "")
    parsed = urlparse(location.replace("\\", "/"))
    return not parsed.netloc or parsed.netloc in ("testserver", "localhost")


def test_the_check_sees_an_off_site_redirect():
    class R:
        headers = {"Location": "//evil.example/"}

    assert not stays_here(R())


@pytest.mark.parametrize("target", EVIL)
def test_login_does_not_follow_an_off_site_next(world, client, target):
    user = world.people["coordinator"]
    response = client.post(reverse("account_login") + f"?next={target}",
                           {"login": user.username, "password": PASSWORD, "next": target})  # fmt: skip
    assert response.status_code == 302, "logged in"
    assert stays_here(response), response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_logout_does_not_follow_an_off_site_next(world, client, target):
    client.force_login(world.people["coordinator"])
    response = client.post(reverse("account_logout"), {"next": target})
    assert response.status_code == 302
    assert stays_here(response), response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_a_decision_does_not_follow_an_off_site_next(world, client, target):
    client.force_login(world.people["bureau"])
    response = client.post(reverse("tracking:decide", args=[world.review.pk]), {"next": target})
    assert response.status_code == 302
    assert stays_here(response), response["Location"]
