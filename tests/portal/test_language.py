"""No English or codes where people read: empty choices, the admin's header and sections, feeds."""

from django.urls import reverse


def test_empty_choices_read_please_choose(login, bureau):
    page = login(bureau).get(reverse("people")).content.decode()
    assert "---------" not in page
    assert '<option value="" selected>請選擇</option>' in page


def test_the_admin_speaks_the_portals_name_and_chinese(login, sysadmin):
    page = login(sysadmin).get("/admin/").content.decode()
    assert "Django" not in page
    assert "九大分區資訊組長社群 網站管理" in page
    assert "登入失敗與鎖定" in page  # django-axes' section


def test_the_feed_links_say_subscribe(login, coordinator):
    client = login(coordinator)
    assert "Atom" not in client.get(reverse("tracking:list")).content.decode()
    assert "Atom" not in client.get(reverse("meetings:subscribe")).content.decode()
