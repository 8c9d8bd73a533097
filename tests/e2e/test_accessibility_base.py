"""The pages of the foundation pass axe-core at WCAG 2.1 AA (serious/critical) as each role."""

import pytest

from portal.demo import load as load_demo
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser

PAGES = {
    None: ["/", "/accounts/login/", "/accounts/password/reset/", "/accounts/signup/"],
    ("coordinator", "coordinator-demo-108"): ["/"],
    ("bureau", "bureau-demo-108"): ["/", "/people/", "/audit/"],
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", list(PAGES), ids=lambda w: w[0] if w else "anonymous")
@pytest.mark.parametrize("width", [375, 1280])
def test_foundation_pages_have_no_serious_accessibility_violations(page, who, width, screenshot):
    load_demo()
    page.set_viewport_size({"width": width, "height": 900})
    if who:
        browser_login(page, *who)
        page.wait_for_url("**/")
    problems = {}
    for url in PAGES[who]:
        page.goto(url)
        name = (who[0] if who else "anonymous") + url.replace("/", "_").rstrip("_")
        screenshot(page, name)
        found = serious_violations(page)
        if found:
            problems[url] = found
    assert problems == {}


def test_the_audit_finds_a_real_violation(browser):
    """The harness itself can fail: an unlabeled input and low-contrast text are reported."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content(
        '<html lang="zh-Hant"><head><title>t</title></head><body><main>'
        '<input type="text"><p style="color:#aaa;background:#fff">淺色文字</p></main></body></html>'
    )
    found = " ".join(serious_violations(page))
    context.close()
    assert "label" in found
    assert "color-contrast" in found
