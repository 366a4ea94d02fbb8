"""The admin as moderators and superusers use it: pool rows only for moderators, logged views
of private rows for superusers, read-only state, and decisions taken through actions that ask
for what they need on an intermediate page."""

from collections.abc import Callable

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import (
    Document,
    GoldScore,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    PrivateAccess,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:labeling_line_changelist")


def url(model: str, view: str, *args: object) -> str:
    return reverse(f"admin:labeling_{model}_{view}", args=args)


@pytest.fixture
def private_line(read_document: Callable[..., Document]) -> Line:
    """A line of a private document, with a decision a moderator took before this was refused."""
    doc = read_document()
    doc.title = "Secret diary"
    doc.save()
    line = Line.objects.filter(page__document=doc).order_by("order").first()
    assert line is not None
    Line.objects.filter(pk=line.pk).update(consensus_text="سر")
    ModerationDecision.objects.create(line=line, action=ModerationAction.REOPEN)
    return line


@pytest.fixture
def agreed_line(pool_lines: Callable[..., list[Line]], labelled: Callable[..., Line]) -> Line:
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("وطن", "وطن"))
    assert line.status == LineStatus.AGREED
    return line


def rows_of(line: Line) -> dict[str, int]:
    """The line and the rows above and beside it, by admin model name."""
    decision = ModerationDecision.objects.create(line=line, action=ModerationAction.FLAG)
    return {
        "document": line.page.document_id,
        "page": line.page_id,
        "line": line.pk,
        "moderationdecision": decision.pk,
    }


def select(action: str, *lines: Line, **fields: object) -> dict[str, object]:
    return {"action": action, ACTION_CHECKBOX_NAME: [ln.pk for ln in lines], **fields}


def confirm(action: str, *lines: Line, **fields: object) -> dict[str, object]:
    return select(action, *lines, post="yes", **fields)


def per_line(texts: dict[Line, str]) -> dict[str, object]:
    data: dict[str, object] = {
        "lines-TOTAL_FORMS": len(texts),
        "lines-INITIAL_FORMS": len(texts),
        "lines-MIN_NUM_FORMS": 0,
        "lines-MAX_NUM_FORMS": 1000,
    }
    for i, (line, text) in enumerate(texts.items()):
        data[f"lines-{i}-line"] = line.pk
        data[f"lines-{i}-text"] = text
    return data


def test_a_moderator_sees_pool_rows_and_never_a_private_one_in_any_list(
    moderator: User,
    superuser: User,
    private_line: Line,
    agreed_line: Line,
    client_for: Callable[[User], Client],
) -> None:
    private, pool = rows_of(private_line), rows_of(agreed_line)
    for model in private:
        listed = client_for(moderator).get(url(model, "changelist")).content.decode()
        assert url(model, "change", pool[model]) in listed, model
        assert url(model, "change", private[model]) not in listed, model
        everything = client_for(superuser).get(url(model, "changelist")).content.decode()
        assert url(model, "change", private[model]) in everything, model


def test_a_moderator_opening_a_private_row_is_told_it_does_not_exist(
    moderator: User, private_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(moderator)
    for model, pk in rows_of(private_line).items():
        for view in ("change", "history"):
            response = client.get(url(model, view, pk), follow=True)
            assert response.redirect_chain[-1][0] == reverse("admin:index"), (model, view)
            assert "doesn’t exist" in response.content.decode(), (model, view)
        assert client.get(url(model, "delete", pk)).status_code == 403
    assert "سر" not in client.get(url("line", "change", private_line.pk)).content.decode()
    assert not PrivateAccess.objects.exists()


def test_a_moderators_search_and_raw_id_lookups_never_find_private_rows(
    moderator: User, private_line: Line, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(moderator)
    private_doc = private_line.page.document_id
    found = client.get(url("line", "changelist"), {"q": "Secret diary"}).content.decode()
    assert url("line", "change", private_line.pk) not in found
    assert "0 lines" in found
    popup = client.get(url("document", "changelist"), {"_to_field": "id", "_popup": "1"})
    assert popup.status_code == 200
    assert url("document", "change", private_doc) not in popup.content.decode()
    assert url("document", "change", agreed_line.page.document_id) in popup.content.decode()


def test_a_moderators_action_on_a_private_line_changes_nothing(
    moderator: User, private_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(moderator)
    before = ModerationDecision.objects.count()
    for data in (
        select("approve", private_line),
        confirm("reject", private_line, reason="Not Ottoman"),
        confirm("approve_with_text", private_line, **per_line({private_line: "باشقه"})),
    ):
        assert client.post(CHANGELIST, data).status_code == 302
    private_line.refresh_from_db()
    assert private_line.status == LineStatus.OPEN
    assert ModerationDecision.objects.count() == before


def test_a_superuser_opening_a_private_row_is_logged(
    superuser: User, private_line: Line, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(superuser)
    opened = url("line", "change", private_line.pk)
    page = client.get(opened)
    assert page.status_code == 200 and "سر" in page.content.decode()
    document = url("document", "change", private_line.page.document_id)
    client.get(document)
    client.get(url("line", "change", agreed_line.pk))  # a pool row: not logged
    logged = list(PrivateAccess.objects.order_by("pk").values_list("user", "what", "path"))
    assert logged == [
        (superuser.pk, "labeling.line", opened),
        (superuser.pk, "labeling.document", document),
    ]


def test_the_superusers_list_does_not_show_private_text(
    superuser: User, private_line: Line, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    listed = client_for(superuser).get(CHANGELIST).content.decode()
    assert "وطن" in listed and "سر" not in listed and "(private)" in listed


def test_the_access_log_is_shown_to_superusers_and_never_edited(
    superuser: User,
    moderator: User,
    private_line: Line,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(superuser)
    client.get(url("line", "change", private_line.pk))
    entry = PrivateAccess.objects.get()
    assert str(private_line.pk) in client.get(url("privateaccess", "changelist")).content.decode()
    shown = client.get(url("privateaccess", "change", entry.pk)).content.decode()
    assert 'name="_save"' not in shown and 'name="path"' not in shown
    assert client.post(url("privateaccess", "change", entry.pk), {"path": "/"}).status_code == 403
    assert client.post(url("privateaccess", "delete", entry.pk), {"post": "yes"}).status_code == 403
    assert client.get(url("privateaccess", "add")).status_code == 403
    entry.refresh_from_db()
    assert entry.path == url("line", "change", private_line.pk)
    moderators = client_for(moderator).get(url("privateaccess", "changelist"))
    assert moderators.status_code == 403


def test_a_line_has_no_field_that_changes_its_state(
    moderator: User, superuser: User, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    for person in (moderator, superuser):
        client = client_for(person)
        page = client.get(url("line", "change", agreed_line.pk)).content.decode()
        assert reverse("labeling:line_crop", args=[agreed_line.pk]) in page
        for field in ("status", "consensus_text", "gold_text", "flag", "page", "order"):
            assert f'name="{field}"' not in page, field
        posted = client.post(
            url("line", "change", agreed_line.pk),
            {"status": "approved", "consensus_text": "باشقه", "gold_text": "باشقه"},
        )
        assert posted.status_code == 403
    agreed_line.refresh_from_db()
    assert (agreed_line.status, agreed_line.consensus_text, agreed_line.gold_text) == (
        LineStatus.AGREED,
        "وطن",
        "",
    )


def test_approving_with_the_consensus_stays_one_click(
    moderator: User, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    response = client_for(moderator).post(CHANGELIST, select("approve", agreed_line), follow=True)
    assert "Approved 1 line." in response.content.decode()
    agreed_line.refresh_from_db()
    assert (agreed_line.status, agreed_line.consensus_text) == (LineStatus.APPROVED, "وطن")
    decision = agreed_line.decisions.get()
    assert (decision.moderator, decision.action, decision.text) == (
        moderator,
        ModerationAction.APPROVE,
        "وطن",
    )


def test_reject_asks_for_a_reason_and_records_it(
    moderator: User, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(moderator)
    asked = client.post(CHANGELIST, select("reject", agreed_line))
    assert asked.status_code == 200
    page = asked.content.decode()
    assert 'name="reason"' in page
    assert reverse("labeling:line_crop", args=[agreed_line.pk]) in page

    empty = client.post(CHANGELIST, confirm("reject", agreed_line, reason="  "))
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    agreed_line.refresh_from_db()
    assert agreed_line.status == LineStatus.AGREED

    done = client.post(
        CHANGELIST, confirm("reject", agreed_line, reason="Two lines in one crop"), follow=True
    )
    assert "Rejected 1 line." in done.content.decode()
    agreed_line.refresh_from_db()
    assert agreed_line.status == LineStatus.REJECTED
    decision = agreed_line.decisions.get()
    assert (decision.moderator, decision.reason, decision.from_status) == (
        moderator,
        "Two lines in one crop",
        LineStatus.AGREED,
    )


def test_approve_with_typed_text_offers_the_consensus_and_takes_what_was_typed(
    moderator: User,
    agreed_line: Line,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    client_for: Callable[[User], Client],
) -> None:
    (disputed,) = pool_lines((20.0,))
    disputed = labelled(disputed, ("بر", "ایکی", "اوچ", "دورت"))
    client = client_for(moderator)
    page = client.post(CHANGELIST, select("approve_with_text", agreed_line))
    assert page.status_code == 200
    assert 'value="وطن"' in page.content.decode()  # prefilled with the consensus

    blank = confirm("approve_with_text", agreed_line, **per_line({agreed_line: ""}))
    again = client.post(CHANGELIST, blank)
    assert again.status_code == 200 and "This field is required." in again.content.decode()
    agreed_line.refresh_from_db()
    assert agreed_line.status == LineStatus.AGREED

    for line, text in {agreed_line: "وطن", disputed: "بش"}.items():
        data = confirm("approve_with_text", line, **per_line({line: text}))
        done = client.post(CHANGELIST, data, follow=True)
        assert "Approved 1 line." in done.content.decode()
        line.refresh_from_db()
        assert (line.status, line.consensus_text) == (LineStatus.APPROVED, text)
        assert line.decisions.get().text == text


def test_only_approving_agreed_lines_is_done_in_bulk(
    moderator: User,
    agreed_line: Line,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    client_for: Callable[[User], Client],
) -> None:
    (disputed,) = pool_lines((20.0,))
    disputed = labelled(disputed, ("بر", "ایکی", "اوچ", "دورت"))
    (other,) = pool_lines((30.0,))
    other = labelled(other, ("سلطان", "سلطان"))
    client = client_for(moderator)
    for action in ("approve_with_text", "reject", "reopen", "make_gold"):
        shown = client.post(CHANGELIST, select(action, agreed_line, other), follow=True)
        assert "choose one line for this decision" in shown.content.decode(), action
    assert not ModerationDecision.objects.exists()

    done = client.post(
        CHANGELIST, select("approve", agreed_line, other, disputed), follow=True
    ).content.decode()
    assert "Approved 2 lines." in done
    assert "only agreed lines are approved together" in done
    statuses = {
        ln.pk: ln.status
        for ln in Line.objects.filter(pk__in=[agreed_line.pk, other.pk, disputed.pk])
    }
    assert statuses == {
        agreed_line.pk: LineStatus.APPROVED,
        other.pk: LineStatus.APPROVED,
        disputed.pk: LineStatus.DISPUTED,
    }
    assert not disputed.decisions.exists()


def test_make_gold_asks_for_the_answer(
    moderator: User, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(moderator)
    client.post(CHANGELIST, select("approve", agreed_line))
    page = client.post(CHANGELIST, select("make_gold", agreed_line))
    assert page.status_code == 200 and 'name="lines-0-text"' in page.content.decode()
    data = confirm("make_gold", agreed_line, **per_line({agreed_line: "وطن عزیز"}))
    done = client.post(CHANGELIST, data, follow=True)
    assert "Made 1 gold line." in done.content.decode()
    agreed_line.refresh_from_db()
    assert agreed_line.gold_text == "وطن عزیز"
    gold = agreed_line.decisions.get(action=ModerationAction.MAKE_GOLD)
    assert (gold.moderator, gold.text) == (moderator, "وطن عزیز")


def test_reopen_takes_an_optional_reason(
    moderator: User, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(moderator)
    client.post(CHANGELIST, confirm("reject", agreed_line, reason="Bad crop"))
    done = client.post(CHANGELIST, confirm("reopen", agreed_line, reason=""), follow=True)
    assert "Reopened 1 line." in done.content.decode()
    agreed_line.refresh_from_db()
    assert agreed_line.status == LineStatus.OPEN
    assert agreed_line.decisions.filter(action=ModerationAction.REOPEN, reason="").exists()


def test_a_refused_decision_is_named_and_nothing_changes(
    moderator: User, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    client = client_for(moderator)
    client.post(CHANGELIST, select("approve", agreed_line))
    again = client.post(CHANGELIST, select("approve", agreed_line), follow=True).content.decode()
    assert "only agreed or disputed lines can be approved" in again
    typed = client.post(CHANGELIST, select("approve_with_text", agreed_line), follow=True)
    assert typed.redirect_chain, "no page to fill in when no selected line can be approved"
    assert "only agreed or disputed lines can be approved" in typed.content.decode()
    assert agreed_line.decisions.count() == 1


def test_a_moderator_cannot_approve_their_own_only_label_from_the_admin(
    moderator: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    client_for: Callable[[User], Client],
) -> None:
    (line,) = pool_lines((10.0,), labels_needed=1)
    line = labelled(line, ("سلطان",), by=moderator)
    shown = client_for(moderator).post(CHANGELIST, select("approve", line), follow=True)
    assert "only your own label" in shown.content.decode()
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED


def test_gold_scores_are_read_only_and_clearing_a_hold_records_who(
    moderator: User, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    score = GoldScore.objects.create(user=make_user(), seen=10, correct=5, held_back=True)
    client = client_for(moderator)
    page = client.get(url("goldscore", "change", score.pk)).content.decode()
    assert 'name="held_back"' not in page and 'name="seen"' not in page
    done = client.post(
        url("goldscore", "changelist"),
        {"action": "clear", ACTION_CHECKBOX_NAME: [score.pk]},
        follow=True,
    )
    assert "Cleared 1 labeler." in done.content.decode()
    score.refresh_from_db()
    assert (score.held_back, score.cleared_by) == (False, moderator)


def test_a_contributor_cannot_moderate(
    user: User, agreed_line: Line, client_for: Callable[[User], Client]
) -> None:
    response = client_for(user).post(CHANGELIST, select("approve", agreed_line))
    assert response.status_code == 302  # sent to the login page: not staff
    agreed_line.refresh_from_db()
    assert agreed_line.status == LineStatus.AGREED


def test_nobody_adds_a_document_in_the_admin(
    moderator: User, superuser: User, client_for: Callable[[User], Client]
) -> None:
    for person in (moderator, superuser):
        assert client_for(person).get(url("document", "add")).status_code == 403
