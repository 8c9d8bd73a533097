"""Moving report items: outdenting keeps the reading order sensible."""

from datetime import date

import pytest

from meetings import rendering, selectors, services
from meetings.models import ReportItem


def outline(meeting):
    """The report tree as a reader sees it: (depth, label, text) in page order."""
    doc = selectors.meeting_document(meeting)
    section = next(s for s in doc.sections if s.key == "reports")
    return [(e.depth, e.label, e.text) for e in rendering.walk_entries(section.entries) if e.depth]


@pytest.fixture
def tree(divisions, bureau):
    """(一)甲 › 1、甲一 ›(1)甲一之一 (2)甲一之二; 2、甲二; 3、甲三; (二)乙 – and 系統平臺組's (一)丙."""
    meeting = services.meeting_create(user=bureau, title="測試會議", held_on=date(2020, 1, 7))
    promo, platform = divisions[0], divisions[1]

    def add(text, parent=None, division=promo):
        return services.report_item_add(
            meeting=meeting, user=bureau, division=division, text=text, parent=parent
        )

    items = {"甲": add("甲")}
    items["甲一"] = add("甲一", items["甲"])
    items["甲一之一"] = add("甲一之一", items["甲一"])
    items["甲一之二"] = add("甲一之二", items["甲一"])
    items["甲二"] = add("甲二", items["甲"])
    items["甲三"] = add("甲三", items["甲"])
    items["乙"] = add("乙")
    items["丙"] = add("丙", division=platform)
    return meeting, items


def test_an_outdented_item_becomes_the_next_sibling_of_its_former_parent(bureau, tree):
    meeting, items = tree
    services.report_item_move(item=items["甲二"], user=bureau, direction="outdent")
    assert outline(meeting) == [
        (1, "(一)", "甲"),
        (2, "1、", "甲一"),
        (3, "(1)", "甲一之一"),
        (3, "(2)", "甲一之二"),
        (2, "2、", "甲三"),  # the item after it stays under the old parent, renumbered
        (1, "(二)", "甲二"),  # right after its former parent…
        (1, "(三)", "乙"),  # …and before the parent's next sibling
        (1, "(一)", "丙"),  # another division is untouched
    ]
    # positions stay 1..n without gaps or ties at every level it touched
    assert list(
        ReportItem.objects.filter(meeting=meeting, parent=None, division=items["甲"].division)
        .order_by("position")
        .values_list("text", "position")
    ) == [("甲", 1), ("甲二", 2), ("乙", 3)]
    assert list(
        ReportItem.objects.filter(parent=items["甲"])
        .order_by("position")
        .values_list("text", "position")
    ) == [("甲一", 1), ("甲三", 2)]


def test_an_outdented_item_takes_its_own_children_along(bureau, tree):
    meeting, items = tree
    services.report_item_move(item=items["甲一"], user=bureau, direction="outdent")
    assert outline(meeting)[:6] == [
        (1, "(一)", "甲"),
        (2, "1、", "甲二"),
        (2, "2、", "甲三"),
        (1, "(二)", "甲一"),
        (2, "1、", "甲一之一"),
        (2, "2、", "甲一之二"),
    ]


def test_outdenting_from_the_third_level_lands_after_the_parent_on_the_second(bureau, tree):
    meeting, items = tree
    services.report_item_move(item=items["甲一之一"], user=bureau, direction="outdent")
    assert outline(meeting)[:6] == [
        (1, "(一)", "甲"),
        (2, "1、", "甲一"),
        (3, "(1)", "甲一之二"),
        (2, "2、", "甲一之一"),
        (2, "3、", "甲二"),
        (2, "4、", "甲三"),
    ]


def test_indent_then_outdent_puts_an_item_back_where_it_was(bureau, tree):
    meeting, items = tree
    before = outline(meeting)
    services.report_item_move(item=items["乙"], user=bureau, direction="indent")
    assert (2, "4、", "乙") in outline(meeting)
    services.report_item_move(item=items["乙"], user=bureau, direction="outdent")
    assert outline(meeting) == before


def test_a_top_level_item_cannot_be_outdented(bureau, tree):
    meeting, items = tree
    with pytest.raises(services.MeetingError, match="最上層"):
        services.report_item_move(item=items["甲"], user=bureau, direction="outdent")
