"""Decisions on a line's state: approve (optionally with typed text), reject with a reason,
reopen, make it a gold line; labelers' skips that flag it; clearing a labeler's gold hold;
banning a labeler (their labels stop counting) and withdrawing a document from the pool.

Every change of a line's state outside agreement goes through here and writes one
`ModerationDecision`, whoever asks (site, admin, API). Each decision starts only from the
states in `ALLOWED_FROM`, takes the line's row lock first, and changes nothing when refused.
Lines of private documents are never moderated: their owner's reading is final.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    Document,
    DocumentRowQuerySet,
    GoldScore,
    LabelerBan,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    PrivateAccess,
    SkipReason,
    Transcription,
    Visibility,
)
from labeling.review.consensus import recompute_line
from labeling.review.queue import take_turn
from labeling.review.verdicts import refresh_verdicts
from labeling.transcribing import TranscriptionRefused, check_text

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# The transitions a moderator may make. Never a second approval or rejection; a rejected line
# comes back only through reopen (and fresh labels); gold lines are approved lines.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    ModerationAction.APPROVE: frozenset({LineStatus.AGREED, LineStatus.DISPUTED}),
    ModerationAction.REJECT: frozenset(
        {LineStatus.OPEN, LineStatus.AGREED, LineStatus.DISPUTED, LineStatus.APPROVED}
    ),
    ModerationAction.REOPEN: frozenset({LineStatus.REJECTED, LineStatus.DISPUTED}),
    ModerationAction.MAKE_GOLD: frozenset({LineStatus.APPROVED}),
}

_REFUSED_FROM: dict[str, StrPromise] = {
    ModerationAction.APPROVE: gettext_lazy(
        "%(line)s is %(status)s: only agreed or disputed lines can be approved."
    ),
    ModerationAction.REJECT: gettext_lazy(
        "%(line)s is %(status)s: only open, agreed, disputed or approved lines can be rejected."
    ),
    ModerationAction.REOPEN: gettext_lazy(
        "%(line)s is %(status)s: only rejected or disputed lines can be reopened."
    ),
    ModerationAction.MAKE_GOLD: gettext_lazy(
        "%(line)s is %(status)s: only approved lines can become gold lines."
    ),
}


class ModerationRefused(Exception):
    """The decision does not fit the line's state; the message says why. Nothing changed."""


def refusal(*, line: Line, action: str, moderator: User) -> str | None:
    """Why the moderator may not take this decision on the line as it stands, or None."""
    if line.page.document.visibility != Visibility.POOL:
        return _("%(line)s is in a private document: its owner's reading is final.") % {
            "line": line
        }
    if line.status not in ALLOWED_FROM[action]:
        return _REFUSED_FROM[action] % {"line": line, "status": line.get_status_display().lower()}
    if action == ModerationAction.APPROVE:
        labelers = set(line.transcriptions.values_list("user_id", flat=True))
        if labelers == {moderator.pk}:
            return _("%(line)s has only your own label: another moderator must approve it.") % {
                "line": line
            }
    return None


def _locked(line: Line, *, action: str, moderator: User) -> Line:
    """The line under its row lock, checked for the decision; ModerationRefused otherwise."""
    line = Line.objects.select_for_update().select_related("page__document").get(pk=line.pk)
    why = refusal(line=line, action=action, moderator=moderator)
    if why is not None:
        raise ModerationRefused(why)
    return line


def _typed(text: str) -> str:
    """A moderator's typed text as it will be stored; the same checks as a labeler's."""
    try:
        return check_text(text, allow_latin=True)
    except TranscriptionRefused as exc:
        raise ModerationRefused(str(exc)) from exc


def _record(
    line: Line,
    *,
    action: str,
    moderator: User | None,
    from_status: str,
    text: str = "",
    reason: str = "",
) -> ModerationDecision:
    return ModerationDecision.objects.create(
        line=line,
        moderator=moderator,
        action=action,
        from_status=from_status,
        text=text,
        reason=reason,
    )


@transaction.atomic
def approve_line(*, line: Line, moderator: User, text: str | None = None) -> Line:
    """Approve an agreed or disputed line with the typed text, or with its consensus when no
    text is given (a disputed line has none: the moderator types it)."""
    line = _locked(line, action=ModerationAction.APPROVE, moderator=moderator)
    approved = _typed(text) if text is not None else line.consensus_text
    if not approved:
        raise ModerationRefused(
            _("%(line)s has no consensus yet; type the text to approve.") % {"line": line}
        )
    before = line.status
    line.status = LineStatus.APPROVED
    line.consensus_text = approved
    line.flag = ""
    line.save(update_fields=["status", "consensus_text", "flag"])
    refresh_verdicts(line=line)
    _record(
        line,
        action=ModerationAction.APPROVE,
        moderator=moderator,
        from_status=before,
        text=approved,
    )
    return line


@transaction.atomic
def approve_agreed(*, line: Line, moderator: User) -> Line:
    """Approve an agreed line with its consensus: the one decision taken on many lines at
    once. A disputed line needs a moderator's reading, on its own page."""
    locked = _locked(line, action=ModerationAction.APPROVE, moderator=moderator)
    if locked.status != LineStatus.AGREED:
        raise ModerationRefused(
            _(
                "%(line)s is %(status)s: only agreed lines are approved together; decide it "
                "on its own page."
            )
            % {"line": locked, "status": locked.get_status_display().lower()}
        )
    return approve_line(line=locked, moderator=moderator)


@transaction.atomic
def reject_line(*, line: Line, moderator: User, reason: str) -> Line:
    """Reject the line (not usable as training data), with the reason. A gold line stops
    being one: nobody is graded on it any more."""
    reason = reason.strip()
    if not reason:
        raise ModerationRefused(_("Say why the line is rejected."))
    line = _locked(line, action=ModerationAction.REJECT, moderator=moderator)
    before = line.status
    line.status = LineStatus.REJECTED
    line.gold_text = ""
    line.save(update_fields=["status", "gold_text"])
    refresh_verdicts(line=line)
    _record(
        line, action=ModerationAction.REJECT, moderator=moderator, from_status=before, reason=reason
    )
    return line


@transaction.atomic
def reopen_line(*, line: Line, moderator: User, reason: str = "") -> Line:
    """Send a rejected or disputed line back to the labelers, with room for fresh labels."""
    line = _locked(line, action=ModerationAction.REOPEN, moderator=moderator)
    before = line.status
    line.status = LineStatus.OPEN
    line.flag = ""
    line.consensus_text = ""
    line.gold_text = ""
    # The earlier labels did not settle it: they stay as history but stop counting.
    line.transcriptions.update(counts=False)
    line.labels_wanted = line.label_count + line.page.document.labels_needed
    line.save(update_fields=["status", "flag", "consensus_text", "gold_text", "labels_wanted"])
    refresh_verdicts(line=line)
    _record(
        line,
        action=ModerationAction.REOPEN,
        moderator=moderator,
        from_status=before,
        reason=reason.strip(),
    )
    return line


@transaction.atomic
def make_gold(*, line: Line, moderator: User, answer: str | None = None) -> Line:
    """Make an approved line a gold line that tests labelers, with the answer as typed (its
    approved text when none is given). The answer is the line's text from now on."""
    line = _locked(line, action=ModerationAction.MAKE_GOLD, moderator=moderator)
    gold = _typed(answer) if answer is not None else line.consensus_text
    if gold == line.gold_text:
        raise ModerationRefused(
            _("%(line)s is already a gold line with this answer.") % {"line": line}
        )
    before = line.status
    line.gold_text = line.consensus_text = gold
    line.save(update_fields=["gold_text", "consensus_text"])
    refresh_verdicts(line=line)
    _record(
        line, action=ModerationAction.MAKE_GOLD, moderator=moderator, from_status=before, text=gold
    )
    return line


def flag_line(*, line: Line, reasons: Counter[str]) -> Line:
    """Labelers' skips send an open line to the moderators (disputed, flagged with the most
    common reason): a decision without a moderator. The caller holds the line's lock."""
    before = line.status
    line.flag = reasons.most_common(1)[0][0]
    line.status = LineStatus.DISPUTED
    line.save(update_fields=["flag", "status"])
    refresh_verdicts(line=line)
    counted = ", ".join(f"{SkipReason(r).label}: {n}" for r, n in reasons.most_common())
    _record(line, action=ModerationAction.FLAG, moderator=None, from_status=before, reason=counted)
    return line


@transaction.atomic
def clear_hold(*, score: GoldScore, moderator: User) -> GoldScore:
    """A moderator has looked: the labeler's labels count again, with a fresh gold record.
    Records who cleared it and when."""
    score = GoldScore.objects.select_for_update().get(pk=score.pk)
    if not score.held_back:
        raise ModerationRefused(
            _("%(labeler)s is not held back; there is nothing to clear.") % {"labeler": score.user}
        )
    score.held_back = False
    score.seen = score.correct = 0
    score.cleared_at = timezone.now()
    score.cleared_by = moderator
    score.save()
    return score


@transaction.atomic
def ban_labeler(*, user: User, moderator: User, reason: str) -> LabelerBan:
    """Stop a person's labelling: their labels stop counting, their open leases end, and the
    queue hands them nothing. Each undecided pool line they labelled is recomputed without
    them; a line whose status changes (an agreed line back for labels) is recorded as a `ban`
    decision. Refused for superusers, for oneself and for someone already banned."""
    reason = reason.strip()
    if user.is_superuser:
        raise ModerationRefused(
            _("%(person)s is a superuser: superusers cannot be banned.") % {"person": user}
        )
    if user.pk == moderator.pk:
        raise ModerationRefused(_("You cannot ban yourself."))
    if not reason:
        raise ModerationRefused(_("Say why %(person)s is banned.") % {"person": user})
    take_turn(user)  # their claims and labels wait, then see the ban
    if LabelerBan.objects.active().filter(user=user).exists():
        raise ModerationRefused(_("%(person)s is already banned.") % {"person": user})
    ban = LabelerBan.objects.create(user=user, banned_by=moderator, reason=reason)
    Transcription.objects.filter(user=user, counts=True).update(counts=False)
    Assignment.objects.filter(user=user, state=AssignmentState.ACTIVE).update(
        state=AssignmentState.ENDED
    )
    labelled = Transcription.objects.filter(user=user).values("line_id")
    lines = (
        Line.objects.select_for_update(of=("self",))
        .select_related("page__document")
        .filter(pk__in=labelled, page__document__visibility=Visibility.POOL)
        .exclude(status__in=(LineStatus.APPROVED, LineStatus.REJECTED))
        .order_by("pk")  # one lock order for every writer of many lines
    )
    changed = 0
    for line in lines:
        before = line.status
        recompute_line(line=line)
        if line.status != before:
            changed += 1
            _record(
                line,
                action=ModerationAction.BAN,
                moderator=moderator,
                from_status=before,
                reason=_("The labels of %(person)s stopped counting: %(reason)s")
                % {"person": user, "reason": reason},
            )
    ban.lines_reopened = changed
    ban.save(update_fields=["lines_reopened"])
    return ban


@transaction.atomic
def lift_ban(*, ban: LabelerBan, moderator: User) -> LabelerBan:
    """Let a banned person label again. Their labels from now on count; those from before
    stay uncounted (the lines were recomputed without them, some already decided since)."""
    ban = LabelerBan.objects.select_for_update().select_related("user").get(pk=ban.pk)
    if not ban.is_active:
        raise ModerationRefused(
            _("The ban of %(person)s was already lifted.") % {"person": ban.user}
        )
    ban.lifted_at = timezone.now()
    ban.lifted_by = moderator
    ban.save(update_fields=["lifted_at", "lifted_by"])
    return ban


@transaction.atomic
def withdraw_document(*, document: Document, moderator: User, reason: str) -> int:
    """Take a pool document out of the labelling pool: its lines are handed out no more and
    open leases on them end (a labeler who sends one is told why); labels and decisions stay.
    Records who, when and why. Returns the number of leases ended."""
    reason = reason.strip()
    if not reason:
        raise ModerationRefused(_("Say why the document is withdrawn."))
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.visibility != Visibility.POOL:
        raise ModerationRefused(
            _("“%(title)s” is private: it was never in the pool.") % {"title": document.title}
        )
    if document.is_withdrawn:
        raise ModerationRefused(
            _("“%(title)s” was already withdrawn from the pool.") % {"title": document.title}
        )
    # Lines first: a claim that locked one of them commits its lease before this UPDATE goes
    # on, and the leases are ended by the next statement, which sees that lease.
    Line.objects.filter(page__document=document).update(in_pool=False)
    ended = Assignment.objects.filter(
        line__page__document=document, state=AssignmentState.ACTIVE
    ).update(state=AssignmentState.ENDED)
    document.withdrawn_at = timezone.now()
    document.withdrawn_by = moderator
    document.withdrawal_reason = reason
    document.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    return ended


def note_private_access(
    *, user: User, rows: DocumentRowQuerySet[Any], pk: int, path: str
) -> PrivateAccess | None:
    """Log it when a superuser opens row `pk` of `rows` and it belongs to someone else's
    private document (rows of pool documents and of one's own are not logged)."""
    if not user.is_superuser or not rows.filter(pk=pk).private_to(user).exists():
        return None
    return PrivateAccess.objects.create(
        user=user, what=rows.model._meta.label_lower, object_id=pk, path=path
    )
