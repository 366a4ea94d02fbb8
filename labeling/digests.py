"""Daily digests: for each contributor, what became of their labels; for each moderator, the
lines newly disputed or flagged.

Celery beat runs `send_digests` every hour; each person gets at most one digest of each kind
per day. A day starts at DIGEST_HOUR (local time, TIME_ZONE): a person whose last digest was
considered before the latest such hour is due. Each run claims a person with one conditional
UPDATE of `last_digest_at` (from the value it read to now) in the transaction that queues
the mail, so two runs at once, or a run repeated within the day, send once; a lost run is
made up by the next hour's. The digest covers the time since the last one, so nothing falls
between two digests, and nothing is sent when nothing happened (the claim still moves on).
Only verified addresses get mail; each digest carries a one-click unsubscribe link (RFC 8058).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from accounts.middleware import personal_locale
from accounts.models import User
from labeling.mail import queue_message
from labeling.models import (
    GoldScore,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OutgoingEmail,
    SkipReason,
    Transcription,
)
from labeling.notifications import (
    site_link,
    subject_line,
    templated_message,
    unsubscribe_headers,
    unsubscribe_url,
    verified_address,
)
from labeling.review.agreement import agrees
from labeling.review.consensus import rules_for

logger = logging.getLogger(__name__)

# A digest lists at most this many lines of each kind; the counts are always complete.
LISTED = 20


def digest_slot(now: datetime) -> datetime:
    """The latest DIGEST_HOUR:00 (local time) at or before `now`: the start of today's digest."""
    local = timezone.localtime(now)
    slot = local.replace(hour=settings.DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return slot


def _due(last_field: str, slot: datetime) -> Q:
    return Q(**{f"{last_field}__isnull": True}) | Q(**{f"{last_field}__lt": slot})


def _verified() -> Exists:
    return Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True))


def _claim(user: User, last_field: str, now: datetime) -> bool:
    """Hold this person's digest for this run: True for exactly one run per day."""
    old = getattr(user, last_field)
    rows = User.objects.filter(pk=user.pk)
    rows = rows.filter(**{f"{last_field}__isnull": True} if old is None else {last_field: old})
    return bool(rows.update(**{last_field: now}))


# --- Contributors -------------------------------------------------------------------------


class Fate:
    AGREED = "agreed"  # approved with text that agrees with theirs
    OVERTURNED = "overturned"  # approved with text that differs from theirs
    REJECTED = "rejected"
    REOPENED = "reopened"


@dataclass(frozen=True)
class LabelFate:
    line_id: int
    document_title: str
    page_number: int
    line_number: int
    yours: str
    approved: str  # the approved text ("" unless approved)
    reason: str  # a rejection's or reopening's reason
    fate: str


@dataclass
class ContributorDigest:
    since: datetime
    until: datetime
    fates: list[LabelFate] = field(default_factory=list)
    gold_seen: int = 0
    gold_correct: int = 0
    held_back: bool = False

    def of(self, fate: str) -> list[LabelFate]:
        return [item for item in self.fates if item.fate == fate]

    @property
    def agreed(self) -> list[LabelFate]:
        return self.of(Fate.AGREED)

    @property
    def overturned(self) -> list[LabelFate]:
        return self.of(Fate.OVERTURNED)

    @property
    def rejected(self) -> list[LabelFate]:
        return self.of(Fate.REJECTED)

    @property
    def reopened(self) -> list[LabelFate]:
        return self.of(Fate.REOPENED)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_seen if self.gold_seen else None

    @property
    def is_empty(self) -> bool:
        return not self.fates


_FATE_OF_ACTION = {
    ModerationAction.REJECT: Fate.REJECTED,
    ModerationAction.REOPEN: Fate.REOPENED,
}


def contributor_digest(*, user: User, since: datetime, until: datetime) -> ContributorDigest:
    """What happened between `since` and `until` to lines the person had labelled before.

    Each line counts once, by its latest decision then: approved (their text "agreed with"
    the approved text, compared through the one normalization and the document's threshold,
    as agreement compares labels; else "overturned"), rejected, or reopened. A person's own
    moderation decisions are not news to them. Gold accuracy is their record as it stands.
    """
    labels = {
        label.line_id: label
        for label in Transcription.objects.filter(user=user).filter(
            line__decisions__created_at__gt=since, line__decisions__created_at__lte=until
        )
    }
    decisions = (
        ModerationDecision.objects.filter(
            line_id__in=labels,
            created_at__gt=since,
            created_at__lte=until,
            action__in=[ModerationAction.APPROVE, ModerationAction.REJECT, ModerationAction.REOPEN],
        )
        .exclude(moderator=user)
        .select_related("line__page__document")
        .order_by("line_id", "-created_at", "-pk")
    )
    fates: list[LabelFate] = []
    seen: set[int] = set()
    for decision in decisions:
        if decision.line_id in seen:
            continue
        seen.add(decision.line_id)
        label = labels[decision.line_id]
        if label.created_at > decision.created_at:
            continue  # labelled after the decision (e.g. after a reopen): not about this label
        line = decision.line
        if decision.action == ModerationAction.APPROVE:
            agreed = agrees(label.text, decision.text, rules_for(line))
            fate = Fate.AGREED if agreed else Fate.OVERTURNED
        else:
            fate = _FATE_OF_ACTION[ModerationAction(decision.action)]
        fates.append(
            LabelFate(
                line_id=line.pk,
                document_title=line.page.document.title,
                page_number=line.page.number,
                line_number=line.order,
                yours=label.text,
                approved=decision.text if decision.action == ModerationAction.APPROVE else "",
                reason=decision.reason,
                fate=fate,
            )
        )
    score = GoldScore.objects.filter(user=user).first()
    return ContributorDigest(
        since=since,
        until=until,
        fates=fates,
        gold_seen=score.seen if score else 0,
        gold_correct=score.correct if score else 0,
        held_back=bool(score and score.held_back),
    )


def contributor_message(*, user: User, address: str, digest: ContributorDigest) -> OutgoingEmail:
    with personal_locale(user):
        count = len(digest.fates)
        subject = ngettext(
            "What became of %(n)d of your labels", "What became of %(n)d of your labels", count
        ) % {"n": count}
        message = templated_message(
            template="digest",
            subject=subject_line(subject),
            to=address,
            context={
                "user": user,
                "digest": digest,
                "listed": LISTED,
                "my_labels_url": site_link(reverse("labeling:my_labels")),
                "profile_url": site_link(reverse("accounts:profile")),
                "unsubscribe_url": unsubscribe_url(user=user, kind="digest"),
            },
            headers=unsubscribe_headers(user=user, kind="digest"),
        )
    return queue_message(message)


def contributors_due(slot: datetime) -> QuerySet[User]:
    """People who want the digest, can get mail, have labelled something, and had no digest
    since `slot`."""
    return (
        User.objects.filter(is_active=True, digest_emails=True)
        .filter(_due("last_digest_at", slot))
        .filter(_verified(), Exists(Transcription.objects.filter(user=OuterRef("pk"))))
        .order_by("pk")
    )


def send_contributor_digests(*, now: datetime | None = None) -> int:
    """Queue today's contributor digests that are due; returns how many were queued."""
    now = now or timezone.now()
    slot = digest_slot(now)
    queued = 0
    for user in list(contributors_due(slot)):
        with transaction.atomic():
            if not _claim(user, "last_digest_at", now):
                continue  # another run has it
            since = user.last_digest_at or slot - timedelta(days=1)
            digest = contributor_digest(user=user, since=since, until=now)
            address = verified_address(user)
            if digest.is_empty or address is None:
                continue
            contributor_message(user=user, address=address, digest=digest)
            queued += 1
    return queued


# --- Moderators ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DisputedLine:
    line_id: int
    document_title: str
    page_number: int
    line_number: int
    flag: str  # the labelers' most common skip reason, as shown; "" when labels disagreed
    admin_url: str


@dataclass
class ModerationDigest:
    since: datetime
    until: datetime
    new: list[DisputedLine]
    new_count: int
    flagged_count: int
    disputed_now: int
    list_url: str

    @property
    def is_empty(self) -> bool:
        return self.new_count == 0


def moderators() -> QuerySet[User]:
    """Active people with `labeling.moderate_line` (by group, directly, or as superusers)."""
    permission = Permission.objects.filter(
        codename="moderate_line", content_type__app_label="labeling"
    ).first()
    who = Q(is_superuser=True)
    if permission is not None:
        who |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    return User.objects.filter(is_active=True).filter(who).distinct()


def moderation_digest(*, user: User, since: datetime, until: datetime) -> ModerationDigest:
    """Lines the moderator may decide that became disputed between `since` and `until` and
    still are: labelers' skips flagged them (a `flag` decision) or a label made the line run
    out of room without agreement (that label's time: disputed lines take no more labels)."""
    window = {"created_at__gt": since, "created_at__lte": until}
    flagged = ModerationDecision.objects.filter(
        line=OuterRef("pk"), action=ModerationAction.FLAG, **window
    )
    labelled = Transcription.objects.filter(
        line=OuterRef("pk"), updated_at__gt=since, updated_at__lte=until
    )
    disputed = Line.objects.for_moderation(user).filter(status=LineStatus.DISPUTED)
    new = disputed.filter(Exists(flagged) | Exists(labelled))
    list_url = site_link(reverse("admin:labeling_line_changelist")) + "?status__exact=disputed"
    listed = [
        DisputedLine(
            line_id=line.pk,
            document_title=line.page.document.title,
            page_number=line.page.number,
            line_number=line.order,
            flag=str(SkipReason(line.flag).label) if line.flag else "",
            admin_url=site_link(reverse("admin:labeling_line_change", args=[line.pk])),
        )
        for line in new.select_related("page__document").order_by("pk")[:LISTED]
    ]
    return ModerationDigest(
        since=since,
        until=until,
        new=listed,
        new_count=new.count(),
        flagged_count=new.exclude(flag="").count(),
        disputed_now=disputed.count(),
        list_url=list_url,
    )


def moderation_message(*, user: User, address: str, digest: ModerationDigest) -> OutgoingEmail:
    with personal_locale(user):
        subject = ngettext(
            "%(n)d line newly disputed or flagged",
            "%(n)d lines newly disputed or flagged",
            digest.new_count,
        ) % {"n": digest.new_count}
        message = templated_message(
            template="moderation_digest",
            subject=subject_line(subject),
            to=address,
            context={
                "user": user,
                "digest": digest,
                "profile_url": site_link(reverse("accounts:profile")),
                "unsubscribe_url": unsubscribe_url(user=user, kind="moderation"),
            },
            headers=unsubscribe_headers(user=user, kind="moderation"),
        )
    return queue_message(message)


def send_moderation_digests(*, now: datetime | None = None) -> int:
    """Queue today's moderator digests that are due; returns how many were queued."""
    now = now or timezone.now()
    slot = digest_slot(now)
    due = (
        moderators()
        .filter(moderation_emails=True)
        .filter(_due("last_moderation_digest_at", slot))
        .filter(_verified())
        .order_by("pk")
    )
    queued = 0
    for user in list(due):
        with transaction.atomic():
            if not _claim(user, "last_moderation_digest_at", now):
                continue
            since = user.last_moderation_digest_at or slot - timedelta(days=1)
            digest = moderation_digest(user=user, since=since, until=now)
            address = verified_address(user)
            if digest.is_empty or address is None:
                continue
            moderation_message(user=user, address=address, digest=digest)
            queued += 1
    return queued


def send_digests() -> None:
    """Both kinds; one failing does not stop the other (the next hourly run tries again)."""
    for part in (send_contributor_digests, send_moderation_digests):
        try:
            count = part()
        except Exception:
            logger.exception("%s failed; the next run tries again", part.__name__)
            continue
        if count:
            logger.info("%s: %d queued", part.__name__, count)
