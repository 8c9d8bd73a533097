"""Browser: the VM page, the incident board and the what-if pages at phone and desktop widths.

Writes var/screenshots/vmquota-{vm,board,whatif,whatif-result}-{375,1280}.png for people to look
at, and checks what a person would notice: nothing wider than a phone's screen, and no chart
label printed over another. The live server runs in this process with eager Celery (SQLite is
fine), so the what-if runs when it is submitted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import browser_login
from tests.factories import bureau_staff, coordinator_of
from tests.vmquota import factories
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store

pytestmark = pytest.mark.browser
WIDTHS = (375, 1280)

OVERLAPS = """() => {
  const boxes = [];
  for (const svg of document.querySelectorAll('svg.vmq-chart')) {
    if (svg.getBoundingClientRect().width === 0) continue;  // the drawing for the other width
    const texts = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++) {
        const [a, r] = texts[i], [b, s] = texts[j];
        if (r.left < s.right - 1 && s.left < r.right - 1 && r.top < s.bottom - 1 && s.top < r.bottom - 1)
          boxes.push(a + ' / ' + b);
      }
    const frame = svg.getBoundingClientRect();
    for (const [t, r] of texts)
      if (r.top < frame.top - 1 || r.bottom > frame.bottom + 1 || r.left < frame.left - 1 || r.right > frame.right + 1)
        boxes.push(t + ' outside the chart');
  }
  return boxes;
}"""


@pytest.fixture
def hosting(transactional_db, xindian_school, jiangcui_school, settings):
    """A day of one-minute samples: a VM pegged for the last 40 minutes, network near the limits."""
    settings.VMQUOTA_HYPERVISOR_ADAPTER = "dryrun"
    coordinator_of(xindian_school, username="xindian-coordinator")
    bureau_staff(username="bureau")
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=3))
    room = factories.hypervisor("dryrun://room")
    vm = factories.vm("xdes-moodle-production-01", xindian_school, hv=room)
    other = factories.vm("jc-web", jiangcui_school, hv=room)
    end = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    rows = []
    for m in range(24 * 60, -1, -1):
        ts = end - timedelta(minutes=m)
        cpu = 100.0 if m <= 40 else 20 + (m % 90) / 2
        net = 24000.0 if 300 <= m <= 340 else 800 + (m % 60) * 40
        rows.append((vm.pk, ts, cpu, net))
        rows.append((other.pk, ts, 96.0 if m <= 35 else 10.0, 100.0))
    store(rows)
    evaluate_cycle()
    return vm


def check_layout(page, width):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px screen"
    assert page.evaluate(OVERLAPS) == []


def test_vm_board_and_whatif_pages_fit_phone_and_desktop(hosting, page, screenshot):
    browser_login(page, "bureau")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/vmquota/vms/{hosting.pk}/")
        page.get_by_role("heading", name="最近 24 小時").wait_for()
        check_layout(page, width)
        path = screenshot(page, "vmquota-vm")
        # the charts alone, at their real size, for people to check the labels
        page.locator("section[aria-labelledby=h-chart]").screenshot(
            path=str(path.with_name(f"vmquota-vm-charts-{width}.png"))
        )
        page.goto("/vmquota/board/")
        check_layout(page, width)
        screenshot(page, "vmquota-board")
        page.goto("/vmquota/whatif/")
        check_layout(page, width)
        screenshot(page, "vmquota-whatif")
        page.get_by_label("門檻（≥）").first.fill("90")
        page.get_by_role("button", name="試算").click()
        page.get_by_role("heading", name="試算結果").wait_for()
        page.get_by_text("合計").wait_for()
        check_layout(page, width)
        screenshot(page, "vmquota-whatif-result")
