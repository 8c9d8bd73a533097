"""Pages of tracked items. Thin: check access (portal.access), call one service, render."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from meetings.models import Meeting
from portal import access, fragments
from portal.audit import record
from portal.spreadsheets import xlsx_of

from . import selectors, services
from .filters import TrackedItemFilter
from .forms import AssignForm, DecisionForm, NextMeetingForm, StatusUpdateForm
from .models import Review, TrackedItem
from .transitions import TransitionError

PAGE_SIZE = 50


def _load_item(case_no, user):
    """The item as `user` may see it; 404 for one they may not know of (opened by a draft)."""
    try:
        return selectors.item_for_page(case_no, user)
    except TrackedItem.DoesNotExist:
        raise Http404("找不到這個列管事項。") from None


def _filtered(request, queryset, calendar):
    data = request.GET.copy()
    if not data:
        data["state"] = "open"  # the list people come for: what is still being tracked
    return TrackedItemFilter(data, queryset=queryset, calendar=calendar)


@require_GET
@access.role_required
def item_list(request):
    is_staff = access.is_staff(request.user)
    query = request.GET.copy()
    query.pop("page", None)

    def render_body():
        calendar = selectors.MeetingCalendar.load()
        filterset = _filtered(request, selectors.item_list_queryset(request.user), calendar)
        # an invalid choice (e.g. a year without items) lists nothing, with the field's error shown
        items = filterset.qs if filterset.is_valid() else TrackedItem.objects.none()
        items = items.order_by("opened_on", "case_no")
        page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
        selectors.decorate(page.object_list, calendar)
        numbers = selectors.minutes_numbers(page.object_list, request.user)
        for item in page.object_list:
            item.minutes_number = numbers.get(item.pk)
        return render_to_string(
            "tracking/_list_body.html",
            {"filter": filterset, "page": page, "query": query.urlencode(), "is_staff": is_staff,
             "recent_meetings": selectors.recent_meetings(request.user)},
        )  # fmt: skip

    # The same for everyone with the same filters and staff flag (only staff see drafts:
    # access.can_view_drafts); "久未更新" and the ages count
    # meetings, so a new day or meeting (LIST_COUNTER) gives a new key.
    body = fragments.fragment(
        ("tracking-list", sorted(request.GET.lists()), is_staff, timezone.localdate().isoformat()),
        (selectors.LIST_COUNTER,),
        render_body,
    )
    return render(
        request,
        "tracking/list.html",
        {"body": body, "query": query.urlencode(), "is_staff": is_staff},
    )


def _decision_form(review):
    status = review.current_status
    return DecisionForm(
        prefix=f"r{review.pk}", initial={"current_status": status, "status_seen": status}
    )


def _detail_context(request, item, *, update_form=None, assign_form=None):
    user = request.user
    can_update = item.is_open and access.can_update_division_work(user, item.division)
    is_staff = access.is_staff(user)
    selectors.decorate([item], selectors.MeetingCalendar.load())  # item_for_page showed it
    pending = [r for r in item.reviews.all() if not r.is_decided]
    return {
        "item": item,
        "timeline": selectors.timeline(item),
        "can_update": can_update,
        "update_form": update_form or (StatusUpdateForm() if can_update else None),
        "is_staff": is_staff,
        "assign_form": assign_form
        or (AssignForm(initial={"division": item.division_id}) if is_staff else None),
        "decision_forms": [(r, _decision_form(r)) for r in pending]
        if is_staff and item.is_open
        else [],
        "subscribed": selectors.is_subscribed(item, user),
        "minutes_number": selectors.minutes_numbers([item], user).get(item.pk),
    }


@require_GET
@access.role_required
def item_detail(request, case_no):
    item = _load_item(case_no, request.user)
    return render(request, "tracking/item.html", _detail_context(request, item))


@require_POST
@access.role_required
def item_update(request, case_no):
    item = get_object_or_404(TrackedItem.objects.select_related("division"), case_no=case_no)
    access.require(
        request,
        access.can_update_division_work(request.user, item.division),
        f"只有承辦組別（{item.division or '未指定'}）的教育局人員可以填報本案的辦理情形。",
        case_no=case_no,
    )
    form = StatusUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.status_update_post(
                item=item, user=request.user, text=form.cleaned_data["text"]
            )
        except services.TrackingError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, f"已儲存 {item.case_no} 的辦理情形，訂閱者會收到通知。")
            return redirect(item)
    messages.error(request, "辦理情形沒有儲存，請看下方的說明。")
    item = _load_item(case_no, request.user)
    return render(
        request, "tracking/item.html", _detail_context(request, item, update_form=form), status=400
    )


@require_POST
@access.role_required
def item_subscribe(request, case_no):
    item = get_object_or_404(TrackedItem.objects.visible_to(request.user), case_no=case_no)
    subscribed = request.POST.get("action") != "unsubscribe"
    services.subscription_set(item=item, user=request.user, subscribed=subscribed)
    if subscribed:
        messages.success(request, f"已訂閱 {item.case_no}：有新的辦理情形時會寄電子郵件給您。")
    else:
        messages.info(request, f"已取消訂閱 {item.case_no}。")
    return redirect(item)


@require_POST
@access.staff_required("只有教育局人員可以指派承辦組別。")
def item_assign(request, case_no):
    item = get_object_or_404(TrackedItem, case_no=case_no)
    form = AssignForm(request.POST)
    if form.is_valid():
        services.item_assign(
            item=item,
            division=form.cleaned_data["division"],
            user=request.user,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, "已更新承辦組別。")
        return redirect(item)
    item = _load_item(case_no, request.user)
    return render(
        request, "tracking/item.html", _detail_context(request, item, assign_form=form), status=400
    )


def _safe_next(request, fallback):
    target = request.POST.get("next", "")
    # a path of this site only: redirect() would take any other word for a view's name
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return fallback


@require_POST
@access.staff_required("只有教育局人員可以登錄決議。")
def review_decide(request, pk):
    review = get_object_or_404(Review.objects.select_related("item", "meeting"), pk=pk)
    form = DecisionForm(request.POST, prefix=f"r{review.pk}")
    back = _safe_next(request, review.item.get_absolute_url())
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{review.item.case_no}：{error}")
        return redirect(back)
    data = form.cleaned_data
    try:
        services.review_decide(
            review=review,
            decision=data["decision"],
            user=request.user,
            resolution=data["resolution"],
            current_status=None
            if data["current_status"].strip() == data["status_seen"].strip()
            else data["current_status"],
            merge_into=data["merge_into"],
        )
    except (TransitionError, services.TrackingError) as exc:
        messages.error(request, f"{review.item.case_no}：{exc}")
    else:
        messages.success(request, f"已登錄 {review.item.case_no} 的決議。")
    return redirect(back)


@require_GET
@access.role_required
def meeting_tables(request, meeting_id):
    """One meeting's two tracking tables in the official layout, and which 現辦理情形 are filled."""
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    access.require(
        request, access.can_view_meeting(request.user, meeting), "這次會議的紀錄尚未發布。"
    )
    status = selectors.meeting_status(meeting)
    is_staff = access.is_staff(request.user)
    return render(
        request,
        "tracking/meeting.html",
        {
            "meeting": meeting,
            "tables": selectors.minutes_tables(meeting),
            "status": status,
            "is_staff": is_staff,
            "decision_forms": [
                (r, _decision_form(r))
                for r in status["reviews"]
                if not r.is_decided and r.item.is_open
            ]
            if is_staff
            else [],
        },
    )


@require_http_methods(["GET", "POST"])
@access.staff_required("只有教育局人員可以建立下次會議。")
def meeting_new(request):
    """Bureau staff create the next meeting; its 上次會議追蹤列管事項 fills itself."""
    form = NextMeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting, result = services.meeting_create_next(
                held_on=form.cleaned_data["held_on"],
                title=form.cleaned_data["title"],
                place=form.cleaned_data["place"],
                user=request.user,
            )
        except services.TrackingError as exc:
            form.add_error("held_on", str(exc))
        else:
            messages.success(
                request,
                f"已建立「{meeting.title}」，帶入 {len(result['carried'])} 項上次會議追蹤列管事項。",
            )
            return redirect("tracking:meeting", meeting_id=meeting.pk)
    return render(request, "tracking/meeting_new.html", {"form": form})


@require_GET
@access.staff_required("只有教育局人員可以匯出列管事項。")
def export_xlsx(request):
    """The open items (with the list's filters) as .xlsx for the bureau's own reports."""
    from .resources import TrackedItemResource

    calendar = selectors.MeetingCalendar.load()
    filterset = _filtered(request, selectors.item_list_queryset(request.user), calendar)
    items = list(
        filterset.qs.filter(shown_state=TrackedItem.State.OPEN)
        .prefetch_related("updates")
        .order_by("opened_on", "case_no")
    )
    selectors.decorate(items, calendar)
    data = xlsx_of(TrackedItemResource().export(items), title="追蹤列管事項")
    record("tracking.exported", request=request, target="列管事項 Excel 檔", count=len(items))
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localdate()
    name = f"追蹤列管事項{stamp.year - 1911}{stamp.month:02d}{stamp.day:02d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def home_block(request):
    """Home page: open items; for bureau staff of a division, theirs lacking a 現辦理情形."""
    if not access.has_role(request.user):
        return None
    roles = access.roles_of(request.user)
    # cached per roles (apps.ready: vary_by_roles_and_day), so staff and members never share it
    open_items = TrackedItem.objects.visible_to(request.user).filter(
        shown_state=TrackedItem.State.OPEN
    )
    mine = None
    if roles.is_bureau and roles.bureau_division_ids:
        mine = list(
            open_items.filter(selectors.needs_status_q())
            .filter(division_id__in=roles.bureau_division_ids)
            .order_by("opened_on", "case_no")[:10]
        )
    return "tracking/home_block.html", {
        "open_count": open_items.count(),
        "oldest": list(open_items.select_related("division").order_by("opened_on", "case_no")[:5]),
        "mine": mine,
    }
