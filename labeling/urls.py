from django.urls import path

from labeling import (
    views,
    views_boxes,
    views_dashboard,
    views_interop,
    views_label,
    views_releases,
    views_search,
    views_tutorial,
)

app_name = "labeling"

urlpatterns = [
    path("", views.home, name="home"),
    path("documents/", views.documents, name="documents"),
    path("documents/new/", views.upload, name="upload"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("documents/<int:pk>/status.json", views.document_status, name="document_status"),
    path("documents/<int:pk>/text.txt", views.document_download, name="document_download"),
    path("documents/<int:pk>/email/", views.document_email, name="document_email"),
    path("documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
    path(
        "documents/<int:pk>/export/<slug:fmt>.zip",
        views_interop.document_xml,
        name="document_xml",
    ),
    path("documents/<int:pk>/pairs.zip", views_releases.document_pairs, name="document_pairs"),
    path("documents/<int:pk>/reread/", views_interop.document_reread, name="document_reread"),
    path("files/<int:pk>/retry/", views.source_retry, name="source_retry"),
    path("pages/<int:pk>/", views.page, name="page"),
    path("pages/<int:pk>/image", views.page_image, name="page_image"),
    path("pages/<int:pk>/retry/", views.page_retry, name="page_retry"),
    path("pages/<int:pk>/boxes.json", views_boxes.page_boxes, name="page_boxes"),
    path("pages/<int:pk>/boxes/<slug:action>/", views_boxes.page_box_edit, name="page_box_edit"),
    path("pages/<int:pk>/reread/", views_boxes.page_reread, name="page_reread"),
    path("lines/<int:pk>/", views.line, name="line"),
    path("lines/<int:pk>/crop.png", views.line_crop, name="line_crop"),
    path("pool/", views_label.pool, name="pool"),
    path("label/", views_label.label_next, name="label_next"),
    path("label/<int:pk>/", views_label.label, name="label"),
    path("me/labels/", views_label.my_labels, name="my_labels"),
    path("review/anchoring/", views_label.anchoring, name="anchoring"),
    path("guidelines/", views_releases.guidelines, name="guidelines"),
    path("tutorial/", views_tutorial.tutorial, name="tutorial"),
    path("tutorial/<int:step>/", views_tutorial.tutorial_step, name="tutorial_step"),
    path("tutorial/<int:step>/line.png", views_tutorial.tutorial_image, name="tutorial_image"),
    path(
        "releases/<int:pk>/download.zip", views_releases.release_download, name="release_download"
    ),
    path("me/dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("staff/dashboard/", views_dashboard.staff_dashboard, name="staff_dashboard"),
    path("search/", views_search.search, name="search"),
]
