"""Celery tasks: take ids, return quietly when the row is gone, safe to run twice."""

from celery import shared_task

from accounts.models import User
from labeling import reading
from labeling.models import Document
from labeling.notifications import email_document_text


@shared_task(acks_late=True)
def ocr_page(page_id: int) -> None:
    reading.read_page(page_id=page_id)


@shared_task(acks_late=True)
def email_document(document_id: int, user_id: int) -> None:
    document = Document.objects.filter(pk=document_id, owner_id=user_id).first()
    user = User.objects.filter(pk=user_id).first()
    if document is None or user is None:
        return
    email_document_text(document=document, user=user)
