"""The moderator's workbench: the line page (diff, history, keyboard decisions), the line list
(filters, counts, normalized search), auto-approval, labelers' pages and bans, documents
withdrawn from the pool and failed pages read again."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    Document,
    GoldScore,
    LabelerBan,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OcrStatus,
    SkipReason,
    Transcription,
)
from labeling.review.consensus import recompute_line
from labeling.review.labels import submit_label
from labeling.review.moderation import ModerationRefused, ban_labeler, withdraw_document
from labeling.review.queue import ClaimRefused, claim_next
from labeling.review.search import pattern
from labeling.transcribing import TranscriptionRefused

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:labeling_line_changelist")
DISPUTING = ("بر", "ایکی", "اوچ", "دورت")


def page_of(line: Line) -> str:
    return reverse("admin:labeling_line_change", args=[line.pk])


def decide_url(line: Line, filters: str = "") -> str:
    url = reverse("admin:labeling_line_decide", args=[line.pk])
    return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url


def label(line: Line, people: list[User], texts: tuple[str, ...]) -> Line:
    """One label per person and text, then the line recomputed as after a real label."""
    for person, text in zip(people, texts, strict=True):
        Transcription.objects.create(
            line=line, user=person, text=text, kept_prediction=False, seconds_spent=12.0
        )
    locked = Line.objects.select_related("page__document").get(pk=line.pk)
    recompute_line(line=locked)
    line.refresh_from_db()
    return line


def messages_on(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


@pytest.fixture
def people(make_user: Callable[..., User]) -> list[User]:
    return [make_user(f"labeler{i}@example.org") for i in range(1, 5)]


# The line page -----------------------------------------------------------------------------


def test_the_line_page_shows_each_label_with_its_labeler_and_a_diff_against_the_consensus(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    (line,) = pool_lines((40.0,), labels_needed=2, max_labels=4)
    GoldScore.objects.create(user=people[0], seen=10, correct=9)
    # Arabic kaf, Persian keheh (agrees once normalized), and a different reading.
    line = label(line, people[:3], ("كتاب", "کتاب", "كتب"))
    assert (line.status, line.consensus_text) == (LineStatus.AGREED, "كتاب")
    page = client_for(moderator).get(page_of(line)).content.decode()
    assert reverse("labeling:line_crop", args=[line.pk]) in page
    for person in people[:3]:
        assert person.email in page
    assert "2 of 3 counted labels agree (agreement 67%)" in page
    assert "90% (10)" in page  # the first labeler's gold accuracy
    rows = re.findall(r'<tr class="label-row[^"]*">(.*?)</tr>', page, re.S)
    assert len(rows) == 3
    # The keheh label differs as typed (ک for ك) and is the same after normalization.
    assert "<del>ك</del><mark>ک</mark>" in rows[1]
    assert re.search(r'class="diff-normalized">same<', rows[1])
    # The third label lacks the alef, raw and normalized.
    assert rows[2].count("<del>ا</del>") == 2
    assert 'dir="rtl"' in rows[2]
    assert 'id="keys"' in page and "<kbd>A</kbd>" in page and "<kbd>E</kbd>" in page
    assert 'id="approve-form"' in page and 'id="reject-form"' in page


def test_a_moderator_approves_on_the_line_page_and_goes_on_to_the_next_listed_line(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    first, second, third = pool_lines((10.0, 20.0, 30.0))
    first = label(first, people[:2], ("وطن", "وطن"))
    second = label(second, people[:4], DISPUTING)
    third = label(third, people[:2], ("سلطان", "سلطان"))
    client = client_for(moderator)
    filters = "review=agreed"
    page = client.get(f"{page_of(first)}?{urlencode({'_changelist_filters': filters})}")
    assert f'href="{page_of(third)}?_changelist_filters=review%3Dagreed"' in page.content.decode()
    done = client.post(decide_url(first, filters), {"decision": "approve"})
    assert done.status_code == 302
    assert done["Location"] == f"{page_of(third)}?_changelist_filters=review%3Dagreed"
    first.refresh_from_db()
    assert first.status == LineStatus.APPROVED
    decision = first.decisions.get()
    assert (decision.moderator, decision.action, decision.text) == (
        moderator,
        ModerationAction.APPROVE,
        "وطن",
    )
    second.refresh_from_db()
    assert second.status == LineStatus.DISPUTED


def test_edit_and_approve_takes_the_typed_text_of_a_disputed_line(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    (line,) = pool_lines((10.0,))
    line = label(line, people, DISPUTING)
    client = client_for(moderator)
    page = client.get(page_of(line)).content.decode()
    assert 'id="approve-form"' not in page  # no consensus to approve as it stands
    assert 'id="edit-form"' in page
    refused = client.post(decide_url(line), {"decision": "approve"}, follow=True)
    assert "has no consensus yet; type the text to approve" in messages_on(refused)
    client.post(decide_url(line), {"decision": "edit", "text": " بش "})
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.APPROVED, "بش")
    assert line.decisions.get().from_status == LineStatus.DISPUTED


def test_reject_on_the_line_page_needs_a_reason(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    (line,) = pool_lines((10.0,))
    line = label(line, people[:2], ("وطن", "وطن"))
    client = client_for(moderator)
    refused = client.post(decide_url(line), {"decision": "reject", "reason": "  "}, follow=True)
    assert "Say why the line is rejected." in messages_on(refused)
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED and not line.decisions.exists()
    client.post(decide_url(line), {"decision": "reject", "reason": "Two lines in one crop"})
    line.refresh_from_db()
    assert line.status == LineStatus.REJECTED
    assert line.decisions.get().reason == "Two lines in one crop"


def test_a_second_approval_or_a_decision_in_the_wrong_state_is_refused_and_changes_nothing(
    moderator: User,
    make_moderator: Callable[..., User],
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    (line,) = pool_lines((10.0,))
    line = label(line, people[:2], ("وطن", "وطن"))
    client_for(moderator).post(decide_url(line), {"decision": "approve"})
    other = client_for(make_moderator("second@example.org"))
    again = other.post(decide_url(line), {"decision": "approve"}, follow=True)
    assert "only agreed or disputed lines can be approved" in messages_on(again)
    edited = other.post(decide_url(line), {"decision": "edit", "text": "باشقه"}, follow=True)
    assert "only agreed or disputed lines can be approved" in messages_on(edited)
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.APPROVED, "وطن")
    assert line.decisions.count() == 1
    page = other.get(page_of(line)).content.decode()
    assert "This line is approved: nothing to decide here." not in page  # reject stays allowed
    assert 'id="approve-form"' not in page and 'id="edit-form"' not in page


def test_a_contributor_opening_the_admin_is_sent_to_sign_in_and_changes_nothing(
    user: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    (line,) = pool_lines((10.0,))
    line = label(line, people[:2], ("وطن", "وطن"))
    client = client_for(user)
    for response in (
        client.get(page_of(line)),
        client.get(CHANGELIST),
        client.post(decide_url(line), {"decision": "approve"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED and not line.decisions.exists()


def test_a_moderator_cannot_decide_on_a_private_line(
    moderator: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
) -> None:
    doc = read_document()
    line = Line.objects.filter(page__document=doc).first()
    assert line is not None
    Line.objects.filter(pk=line.pk).update(status=LineStatus.AGREED, consensus_text="سر")
    response = client_for(moderator).post(decide_url(line), {"decision": "approve"})
    assert response.status_code == 404
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED and not line.decisions.exists()


# The list ----------------------------------------------------------------------------------


def test_the_list_counts_lines_per_review_status_and_filters_by_it(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    agreed, disputed, flagged, still_open = pool_lines((10.0, 20.0, 30.0, 40.0))
    label(agreed, people[:2], ("وطن", "وطن"))
    label(disputed, people, DISPUTING)
    Line.objects.filter(pk=flagged.pk).update(status=LineStatus.DISPUTED, flag=SkipReason.ILLEGIBLE)
    client = client_for(moderator)
    listed = client.get(CHANGELIST).content.decode()
    for text in ("Agreed (1)", "Disputed (1)", "Flagged (1)", "Open (1)", "Approved (0)"):
        assert text in listed, text
    only = client.get(CHANGELIST, {"review": "flagged"}).content.decode()
    assert page_of(flagged) in only and page_of(disputed) not in only
    only = client.get(CHANGELIST, {"review": "disputed"}).content.decode()
    assert page_of(disputed) in only and page_of(flagged) not in only
    assert page_of(still_open) not in only


def test_the_list_filters_by_document_and_confidence_band(
    moderator: User,
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    low, high = pool_lines((20.0, 95.0))
    (elsewhere,) = pool_lines((30.0,))
    client = client_for(moderator)
    band = client.get(CHANGELIST, {"confidence": "low"}).content.decode()
    assert page_of(low) in band and page_of(elsewhere) in band and page_of(high) not in band
    doc = client.get(CHANGELIST, {"page__document__id__exact": low.page.document_id})
    assert page_of(low) in doc.content.decode() and page_of(elsewhere) not in doc.content.decode()


def test_search_finds_lines_through_the_normalization_and_by_labeler(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    typed, predicted, other = pool_lines((10.0, 20.0, 30.0), prediction="سلطان")
    label(typed, people[:2], ("الکِتاب", "الکِتاب"))  # keheh and a kasra
    Line.objects.filter(pk=predicted.pk).update(prediction="كتـاب")  # tatweel
    label(other, people[2:4], ("وطن", "وطن"))
    client = client_for(moderator)
    found = client.get(CHANGELIST, {"q": "كتاب"}).content.decode()
    assert page_of(typed) in found and page_of(predicted) in found
    assert page_of(other) not in found
    by_person = client.get(CHANGELIST, {"q": "labeler3@"}).content.decode()
    assert page_of(other) in by_person and page_of(typed) not in by_person


def test_the_search_pattern_matches_every_spelling_that_normalizes_the_same() -> None:
    regex = pattern("كتاب")
    assert regex is not None
    for spelling in ("کتاب", "كتاب", "الكِتابُ", "ك\u200cتـاب"):
        assert re.search(regex, spelling), spelling
    assert not re.search(regex, "كتب")
    hamza = pattern("ئ")
    assert hamza is not None and re.search(hamza, "ی\u0654")  # Farsi yeh + hamza above
    assert pattern("  ") is None


# Auto-approval -----------------------------------------------------------------------------


def test_auto_approval_approves_a_line_whose_agreeing_labelers_all_prove_themselves(
    people: list[User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,), auto_approve=True)
    for person in people[:2]:
        GoldScore.objects.create(user=person, seen=5, correct=5)
    line = label(line, people[:2], ("وطن", "وطن"))
    assert (line.status, line.consensus_text) == (LineStatus.APPROVED, "وطن")
    decision = line.decisions.get()
    assert (decision.action, decision.moderator, decision.from_status, decision.text) == (
        ModerationAction.AUTO_APPROVE,
        None,
        LineStatus.AGREED,
        "وطن",
    )
    assert decision.reason == (
        "Approved automatically: all 2 agreeing labelers have gold accuracy ≥ 90% over ≥ 5 "
        "gold lines."
    )


def test_auto_approval_is_off_by_default_and_needs_every_agreeing_labeler_to_qualify(
    people: list[User], pool_lines: Callable[..., list[Line]]
) -> None:
    (off,) = pool_lines((10.0,))
    few, weak = pool_lines((10.0, 20.0), auto_approve=True)
    GoldScore.objects.create(user=people[0], seen=20, correct=20)
    GoldScore.objects.create(user=people[1], seen=4, correct=4)  # too few gold lines
    GoldScore.objects.create(user=people[2], seen=10, correct=8)  # 80% < 90%
    GoldScore.objects.create(user=people[3], seen=6, correct=6)
    # Trusted labelers, but their document does not approve by itself.
    assert label(off, [people[0], people[3]], ("وطن", "وطن")).status == LineStatus.AGREED
    assert label(few, people[:2], ("وطن", "وطن")).status == LineStatus.AGREED
    assert label(weak, [people[0], people[2]], ("وطن", "وطن")).status == LineStatus.AGREED
    assert not ModerationDecision.objects.exists()


# Labelers and bans -------------------------------------------------------------------------


def test_banning_a_labeler_stops_their_labels_and_sends_lines_back_for_labels(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    agreed, settled_anyway, leased = pool_lines((10.0, 20.0, 30.0), blind_share=0.0)
    banned = people[0]
    agreed = label(agreed, people[:2], ("وطن", "وطن"))
    settled_anyway = label(settled_anyway, people[:3], ("سلطان", "سلطان", "سلطان"))
    lease = Assignment.objects.create(
        line=leased, user=banned, expires_at=timezone.now() + timedelta(minutes=10)
    )
    client = client_for(moderator)
    url = reverse("admin:labeling_labeler_ban", args=[banned.pk])
    done = client.post(url, {"reason": "Copies Tesseract's reading"}, follow=True)
    assert "is banned" in messages_on(done) and "Lines whose status changed: 1." in messages_on(
        done
    )
    ban = LabelerBan.objects.get()
    assert (ban.user, ban.banned_by, ban.lines_reopened) == (banned, moderator, 1)
    agreed.refresh_from_db()
    assert (agreed.status, agreed.consensus_text) == (LineStatus.OPEN, "")
    assert agreed.labels_wanted == 3  # the banned label stays as history, one more wanted
    decision = agreed.decisions.get()
    assert (decision.action, decision.moderator, decision.from_status) == (
        ModerationAction.BAN,
        moderator,
        LineStatus.AGREED,
    )
    settled_anyway.refresh_from_db()
    assert settled_anyway.status == LineStatus.AGREED and not settled_anyway.decisions.exists()
    assert not Transcription.objects.filter(user=banned, counts=True).exists()
    lease.refresh_from_db()
    assert lease.state == AssignmentState.ENDED
    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=lease.pk, user=banned, text="وطن")
    assert refused.value.code == "banned"
    with pytest.raises(ClaimRefused, match="stopped your labelling"):
        claim_next(user=banned)
    queue_page = client_for(banned).get(reverse("labeling:label_next"), follow=True)
    assert queue_page.status_code == 200 and "stopped your labelling" in messages_on(queue_page)
    page = client.get(reverse("admin:labeling_labeler_change", args=[banned.pk]))
    assert "Copies Tesseract" in page.content.decode() and 'id="lift-form"' in page.content.decode()


def test_a_ban_of_a_superuser_or_of_oneself_is_refused_and_changes_nothing(
    moderator: User,
    superuser: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    (line,) = pool_lines((10.0,))
    label(line, [superuser, people[0]], ("وطن", "وطن"))
    client = client_for(moderator)
    for target, said in (
        (superuser, "superusers cannot be banned"),
        (moderator, "You cannot ban yourself."),
    ):
        url = reverse("admin:labeling_labeler_ban", args=[target.pk])
        shown = client.post(url, {"reason": "Testing"}, follow=True)
        assert said in messages_on(shown)
    empty = client.post(
        reverse("admin:labeling_labeler_ban", args=[people[0].pk]), {"reason": " "}, follow=True
    )
    assert "Say why" in messages_on(empty)
    assert not LabelerBan.objects.exists()
    assert not Transcription.objects.filter(counts=False).exists()
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED
    with pytest.raises(ModerationRefused):
        ban_labeler(user=superuser, moderator=moderator, reason="x")


def test_a_contributor_cannot_ban(
    user: User, people: list[User], client_for: Callable[[User], Client]
) -> None:
    url = reverse("admin:labeling_labeler_ban", args=[people[0].pk])
    assert client_for(user).post(url, {"reason": "x"}).status_code == 302
    assert not LabelerBan.objects.exists()


def test_lifting_a_ban_lets_them_label_again_and_counts_only_new_labels(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    first, second = pool_lines((10.0, 20.0), blind_share=0.0)
    banned = people[0]
    label(first, [banned], ("وطن",))
    ban_labeler(user=banned, moderator=moderator, reason="Careless")
    client = client_for(moderator)
    lifted = client.post(reverse("admin:labeling_labeler_lift", args=[banned.pk]), follow=True)
    assert "may label again" in messages_on(lifted)
    again = client.post(reverse("admin:labeling_labeler_lift", args=[banned.pk]), follow=True)
    assert "is not banned" in messages_on(again)
    claim = claim_next(user=banned)
    assert claim is not None and claim.assignment.line_id == second.pk
    submit_label(assignment_id=claim.assignment.pk, user=banned, text="سلطان")
    counts = dict(Transcription.objects.filter(user=banned).values_list("line_id", "counts"))
    assert counts == {first.pk: False, second.pk: True}


def test_the_labeler_page_shows_agreement_overturned_gold_accuracy_and_time(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    one, two = pool_lines((10.0, 20.0))
    person = people[0]
    GoldScore.objects.create(user=person, seen=8, correct=6)
    label(one, [person, people[1]], ("وطن", "وطن"))
    label(two, [person, people[1], people[2]], ("سلطن", "سلطان", "سلطان"))
    client = client_for(moderator)
    listed = client.get(reverse("admin:labeling_labeler_changelist")).content.decode()
    assert person.email in listed and "75% (8)" in listed
    page = client.get(reverse("admin:labeling_labeler_change", args=[person.pk])).content.decode()
    assert re.search(r'id="labelled">2<', page)
    assert re.search(r'id="agreed">1 \(50%\)<', page)
    assert re.search(r'id="overturned">1<', page)
    assert "75% (6/8)" in page
    assert re.search(r'id="seconds">12\.0<', page)
    assert page_of(two) in page and 'id="ban-form"' in page


# Documents ---------------------------------------------------------------------------------


def test_withdrawing_a_document_ends_open_leases_keeps_labels_and_records_who_and_why(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    labelled_line, leased_line = pool_lines((10.0, 20.0), blind_share=0.0)
    doc = labelled_line.page.document
    label(labelled_line, people[:2], ("وطن", "وطن"))
    claim = claim_next(user=people[2])
    assert claim is not None and claim.assignment.line_id == leased_line.pk
    client = client_for(moderator)
    documents = reverse("admin:labeling_document_changelist")
    select = {"action": "withdraw", ACTION_CHECKBOX_NAME: [doc.pk]}
    asked = client.post(documents, select)
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    done = client.post(documents, {**select, "post": "yes", "reason": "Owner asked"}, follow=True)
    assert "Withdrew 1 document from the pool; 1 open leases ended." in messages_on(done)
    doc.refresh_from_db()
    assert (doc.withdrawn_by, doc.withdrawal_reason) == (moderator, "Owner asked")
    assert doc.withdrawn_at is not None
    assert not Line.objects.filter(page__document=doc, in_pool=True).exists()
    assert Transcription.objects.filter(line__page__document=doc).count() == 2
    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=claim.assignment.pk, user=people[2], text="سلطان")
    assert refused.value.code == "withdrawn"
    assert claim_next(user=people[3]) is None
    again = client.post(documents, {**select, "post": "yes", "reason": "Again"}, follow=True)
    assert "was already withdrawn" in messages_on(again)
    with pytest.raises(ModerationRefused):
        withdraw_document(document=doc, moderator=moderator, reason="")


def test_the_document_list_shows_progress_and_reads_failed_pages_again(
    moderator: User,
    people: list[User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    one, _two = pool_lines((10.0, 20.0))
    label(one, people[:2], ("وطن", "وطن"))
    page = one.page
    page.ocr_status = OcrStatus.FAILED
    page.ocr_error = "Tesseract could not read it"
    page.save()
    client = client_for(moderator)
    documents = reverse("admin:labeling_document_changelist")
    listed = client.get(documents).content.decode()
    assert "0 approved, 1 agreed, 1 waiting, 0 rejected of 2 lines (50% settled)" in listed
    done = client.post(
        documents,
        {"action": "retry_failed_pages", ACTION_CHECKBOX_NAME: [page.document_id]},
        follow=True,
    )
    assert "1 failed page is queued to be read again." in messages_on(done)
    page.refresh_from_db()
    assert page.ocr_status == OcrStatus.QUEUED


def test_staff_change_only_the_auto_approval_settings_of_a_document(
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    staff = make_user("staff@example.org")
    staff.is_staff = True
    staff.save()
    staff.groups.add(Group.objects.get(name="staff"))
    (line,) = pool_lines((10.0,))
    doc = line.page.document
    url = reverse("admin:labeling_document_change", args=[doc.pk])
    client = client_for(staff)
    form = client.get(url).content.decode()
    assert 'name="auto_approve"' in form and 'name="title"' not in form
    client.post(
        url,
        {
            "auto_approve": "on",
            "auto_approve_accuracy": "0.95",
            "auto_approve_min_gold": "8",
            "title": "Renamed",
            "pages-TOTAL_FORMS": "0",
            "pages-INITIAL_FORMS": "0",
        },
    )
    doc.refresh_from_db()
    assert (doc.auto_approve, doc.auto_approve_accuracy, doc.auto_approve_min_gold) == (
        True,
        0.95,
        8,
    )
    assert doc.title == "Pool document"
