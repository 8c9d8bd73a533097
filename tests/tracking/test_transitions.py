"""The transition table and reading 決議 texts (pure Python)."""

import pytest

from tracking import matching, transitions
from tracking.transitions import TransitionError


@pytest.mark.parametrize(
    "text, expected",
    [
        ("本案解列。", ("close", None)),
        ("繼續列管。", ("continue", None)),
        ("本案持續列管，請於下次會議報告。", ("continue", None)),
        ("本案併入 108-09-01 案。", ("merge", "108-09-01")),
        ("併案辦理", ("merge", None)),
        ("", (None, None)),
    ],
)
def test_resolution_texts_map_to_the_table(text, expected):
    assert transitions.parse_resolution(text) == expected


def test_a_resolution_outside_the_table_is_refused_in_chinese():
    with pytest.raises(TransitionError, match="繼續列管、本案解列、併案"):
        transitions.parse_resolution("請各校自行研議。")


@pytest.mark.parametrize("code, to_state", [("continue", "open"), ("close", "closed")])
def test_open_items_may_continue_or_close(code, to_state):
    assert transitions.check(code, "open").to_state == to_state


def test_a_closed_item_cannot_be_decided_again():
    with pytest.raises(TransitionError, match="已解列"):
        transitions.check("continue", "closed")


def test_merging_needs_an_open_target_other_than_itself():
    with pytest.raises(TransitionError, match="併入哪一個案號"):
        transitions.check("merge", "open")
    with pytest.raises(TransitionError, match="自己"):
        transitions.check("merge", "open", target="108-09-01", item_case_no="108-09-01")
    with pytest.raises(TransitionError, match="已不在列管中"):
        transitions.check("merge", "open", target="108-09-02", target_state="closed")
    assert (
        transitions.check("merge", "open", target="108-09-02", target_state="open").to_state
        == "merged"
    )


def test_an_unknown_decision_code_is_refused():
    with pytest.raises(TransitionError, match="只能選擇"):
        transitions.decision("reopen")


@pytest.mark.parametrize(
    "resolution, tracked",
    [
        ("本案列為下次會議列管事項。", True),
        ("…需有校內簽核流程之可行性，本案列為下次會議列管事項。", True),
        ("本案列入追蹤列管。", True),
        ("本案請移請本局中教科錄案研議。", False),
        ("本案不列管。", False),
    ],
)
def test_which_motions_ask_for_tracking(resolution, tracked):
    assert transitions.asks_tracking(resolution) is tracked


def test_the_seed_rows_pair_with_motions_four_and_five_by_their_wording():
    from tracking.demo import SEED_MOTIONS, SEED_NEW_TRACKED_ITEMS

    rows = [r["subject"] for r in SEED_NEW_TRACKED_ITEMS]
    # listed in reverse to show the pairing is by wording, not only by order
    motions = list(reversed(SEED_MOTIONS))
    pairs = matching.pair(rows, motions, lambda m: [m[1], m[2]], in_order_fallback=False)
    assert {i: motions[j][0] for i, j in pairs.items()} == {0: 4, 1: 5}
