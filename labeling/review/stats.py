"""What the crowd's work shows: a labeler's history, and how prefilling biases labels."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from accounts.models import User
from labeling.models import Document, GoldScore, LabelerBan, LineStatus, Transcription, Visibility
from labeling.ottoman import clean_input
from labeling.review.agreement import agrees
from labeling.review.consensus import rules_for

SETTLED = (LineStatus.AGREED, LineStatus.APPROVED)


@dataclass(frozen=True)
class History:
    labelled: int  # pool lines labelled (gold lines not included)
    agreed: int  # of those now settled, labels that agree with the consensus
    overturned: int  # of those now settled, labels that do not
    pending: int  # labels on lines not settled yet
    gold_seen: int
    gold_correct: int
    held_back: bool
    banned: bool = False
    median_seconds: float | None = None  # time spent per labelled line (the median)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_seen if self.gold_seen else None

    @property
    def agreement(self) -> float | None:
        """Share of their labels on settled lines that agree with the consensus."""
        settled = self.agreed + self.overturned
        return self.agreed / settled if settled else None


def labeler_history(*, user: User) -> History:
    # Pool documents, withdrawn ones included: the labels were given while they were shared.
    labels = Transcription.objects.filter(
        user=user, line__page__document__visibility=Visibility.POOL, line__gold_text=""
    )
    agreed = overturned = pending = 0
    seconds = []
    for label in labels.select_related("line__page__document"):
        line = label.line
        seconds.append(label.seconds_spent)
        if line.status in SETTLED and line.consensus_text:
            if agrees(label.text, line.consensus_text, rules_for(line)):
                agreed += 1
            else:
                overturned += 1
        else:
            pending += 1
    score = GoldScore.objects.filter(user=user).first()
    return History(
        labelled=agreed + overturned + pending,
        agreed=agreed,
        overturned=overturned,
        pending=pending,
        gold_seen=score.seen if score else 0,
        gold_correct=score.correct if score else 0,
        held_back=bool(score and score.held_back),
        banned=LabelerBan.objects.active().filter(user=user).exists(),
        median_seconds=median(seconds) if seconds else None,
    )


@dataclass(frozen=True)
class Anchoring:
    """Blind labels (no prediction shown) against prefilled ones, on settled lines."""

    blind_labels: int
    blind_agree: int
    prefilled_labels: int
    prefilled_agree: int
    prefilled_kept: int  # prefilled labels that kept Tesseract's reading unchanged
    blind_as_predicted: int  # blind labels that typed exactly what Tesseract read

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def blind_agreement(self) -> float | None:
        return self._share(self.blind_agree, self.blind_labels)

    @property
    def prefilled_agreement(self) -> float | None:
        return self._share(self.prefilled_agree, self.prefilled_labels)

    @property
    def kept_share(self) -> float | None:
        return self._share(self.prefilled_kept, self.prefilled_labels)

    @property
    def blind_as_predicted_share(self) -> float | None:
        """The baseline for kept_share: how often the reading is right for someone who did not
        see it. kept_share far above this is anchoring (the simulation showed this gap tracks
        anchoring, while the agreement gap barely moves)."""
        return self._share(self.blind_as_predicted, self.blind_labels)


def anchoring_report(*, document: Document | None = None) -> Anchoring:
    """How often blind and prefilled labels agree with the consensus (overall or one document)."""
    labels = Transcription.objects.filter(
        line__in_pool=True, line__gold_text="", line__status__in=SETTLED
    ).exclude(line__consensus_text="")
    if document is not None:
        labels = labels.filter(line__page__document=document)
    counts = {"blind": [0, 0], "prefilled": [0, 0]}
    kept = as_predicted = 0
    for label in labels.select_related("line__page__document"):
        key = "blind" if label.blind else "prefilled"
        counts[key][0] += 1
        counts[key][1] += agrees(label.text, label.line.consensus_text, rules_for(label.line))
        kept += (not label.blind) and label.kept_prediction
        as_predicted += label.blind and label.text == clean_input(label.line.prediction)
    return Anchoring(
        blind_labels=counts["blind"][0],
        blind_agree=counts["blind"][1],
        prefilled_labels=counts["prefilled"][0],
        prefilled_agree=counts["prefilled"][1],
        prefilled_kept=kept,
        blind_as_predicted=as_predicted,
    )
