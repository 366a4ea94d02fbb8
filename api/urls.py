from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.auth_token, name="auth_token"),
    path("me/", views.me, name="me"),
    path("me/transcriptions/", views.my_transcriptions, name="my_transcriptions"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("documents/<int:pk>/text", views.document_download, name="document_text"),
    path("documents/<int:pk>/export/<str:fmt>", views.document_export, name="document_export"),
    path("pages/<int:pk>/", views.page, name="page"),
    path("pages/<int:pk>/image", views.page_image, name="page_image"),
    path("pages/<int:pk>/boxes/<str:action>/", views.page_box_edit, name="page_box_edit"),
    path("lines/<int:pk>/", views.line, name="line"),
    path("lines/<int:pk>/crop.png", views.line_crop, name="line_crop"),
    path("lines/<int:pk>/transcription/", views.line_transcription, name="line_transcription"),
    path("lines/<int:pk>/confirm/", views.line_confirm, name="line_confirm"),
    path("queue/next/", views.queue_next, name="queue_next"),
    path("queue/<int:assignment>/submit/", views.queue_submit, name="queue_submit"),
    path("queue/<int:assignment>/skip/", views.queue_skip, name="queue_skip"),
    path("releases/", views.releases, name="releases"),
    path("releases/<int:pk>/download", views.release_download, name="release_download"),
    path("models/", views.models, name="models"),
    path("models/<int:pk>/make-default/", views.model_make_default, name="model_make_default"),
    path("training-runs/", views.training_runs, name="training_runs"),
    path("training-runs/<int:pk>/", views.training_run, name="training_run"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
