from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("data/", views.data, name="data"),
    path("data/<int:pk>/download.zip", views.data_download, name="data_download"),
    path("delete/", views.delete_account, name="delete"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
