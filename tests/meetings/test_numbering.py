import pytest

from meetings import numbering
from meetings.numbering import InvalidTree, Node


@pytest.mark.parametrize(
    ("n", "formal", "plain"),
    [(1, "壹", "一"), (4, "肆", "四"), (10, "拾", "十"), (11, "拾壹", "十一"), (20, "貳拾", "二十"),
     (21, "貳拾壹", "二十一"), (100, "壹佰", "一百"), (110, "壹佰壹拾", "一百一十"), (105, "壹佰零伍", "一百零五")],
)  # fmt: skip
def test_chinese_numerals(n, formal, plain):
    assert numbering.formal(n) == formal
    assert numbering.plain(n) == plain


def test_section_labels_run_from_壹_to_拾壹_as_in_the_seed():
    labels = [numbering.section_label(n) for n in range(1, 12)]
    assert labels[0] == "壹、" and labels[9] == "拾、" and labels[10] == "拾壹、"


def test_item_labels_by_depth():
    assert [numbering.item_label(d, 2) for d in range(6)] == [
        "二、",
        "(二)",
        "2、",
        "(2)",
        "乙、",
        "(乙)",
    ]


def test_any_depth_has_a_label():
    assert numbering.item_label(40, 3)  # deep trees alternate the last two styles


def test_motions_are_numbered_only_when_there_are_several():
    assert numbering.motion_label("案由", 1, 1) == "案由"
    assert numbering.motion_label("案由", 6, 6) == "案由六"


def test_a_tree_is_numbered_in_preorder_by_position():
    nodes = [Node(1, None, 2), Node(2, None, 1), Node(3, 1, 1), Node(4, 3, 1), Node(5, 1, 2)]
    result = numbering.number_tree(nodes, base_depth=1)
    assert [(n.id, n.label, n.depth) for n in result] == [
        (2, "(一)", 0), (1, "(二)", 0), (3, "1、", 1), (4, "(1)", 2), (5, "2、", 1),
    ]  # fmt: skip


def test_ties_in_position_are_broken_by_id():
    result = numbering.number_tree([Node(9, None, 0), Node(3, None, 0)])
    assert [n.id for n in result] == [3, 9]


@pytest.mark.parametrize(
    "nodes",
    [
        [Node(1, 7, 1)],  # a missing parent
        [Node(1, 2, 1), Node(2, 1, 1)],  # a cycle
        [Node(1, None, 1), Node(2, 3, 1), Node(3, 2, 1)],  # a cycle beside a good root
        [Node(1, None, 1), Node(1, None, 2)],  # a repeated id
    ],
)
def test_an_invalid_tree_is_refused_not_numbered(nodes):
    with pytest.raises(InvalidTree):
        numbering.number_tree(nodes)
