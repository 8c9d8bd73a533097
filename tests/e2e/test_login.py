import pytest

from portal.demo import load as load_demo
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_the_demo_coordinator_logs_in_and_sees_the_home_page(page, screenshot):
    load_demo()
    page.goto("/")
    screenshot(page, "welcome")
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.get_by_role("heading", name="您好，新店國小資訊組長").wait_for()
    assert "新店國小" in page.content()
    screenshot(page, "home-coordinator")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "home-coordinator")
