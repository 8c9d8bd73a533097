"""Proposals (提案) from the districts for a coming meeting, and every change of their state."""

from django.conf import settings
from django.db import models


class Proposal(models.Model):
    """A proposal (提案) a district brings to a meeting: 案由, 說明 and optionally 辦法.

    A convener submits for the district; a coordinator writes one and hands it to the district's
    convener, who sends it on. The bureau accepts it onto the agenda, returns it with a reason or
    merges it into another; one carried over (於下次會議提出) comes back to the next meeting. Every
    change of state is a ProposalTransition row."""

    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        AT_CONVENER = "at_convener", "待分區代表送出"
        SUBMITTED = "submitted", "已送出"
        ACCEPTED = "accepted", "已列入議程"
        RETURNED = "returned", "已退回"
        MERGED = "merged", "已併案"
        CARRIED = "carried", "於下次會議提出"

    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="proposals"
    )
    district = models.ForeignKey(
        "portal.District", verbose_name="提案分區", on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="撰寫人", on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    subject = models.TextField("案由")
    explanation = models.TextField("說明")
    method = models.TextField("辦法", blank=True)
    state = models.CharField(
        "狀態", max_length=12, choices=State.choices, default=State.DRAFT, db_index=True
    )
    position = models.PositiveIntegerField("議程順序", default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged",
        verbose_name="併入",
    )  # fmt: skip
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_to",
        verbose_name="延續自",
    )  # fmt: skip
    # the 提案討論 motion of the draft minutes it became (convening.minutes_from_agenda)
    motion = models.OneToOneField(
        "meetings.Motion", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="from_proposal", verbose_name="紀錄中的提案",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["meeting", "position", "id"]
        verbose_name = "提案"
        verbose_name_plural = "提案"

    def __str__(self):
        return self.subject[:40]

    @property
    def proposer(self):
        return self.district.name


class ProposalTransition(models.Model):
    """One change of a proposal's state: who, when, old → new, why."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="transitions")
    old_state = models.CharField("原狀態", max_length=12, blank=True)
    new_state = models.CharField("新狀態", max_length=12, choices=Proposal.State.choices)
    reason = models.CharField("原因", max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal", "at", "id"]
        verbose_name = "提案狀態變更"
        verbose_name_plural = "提案狀態變更"

    def __str__(self):
        return f"{self.proposal}：{self.old_state or '—'} → {self.new_state}"
