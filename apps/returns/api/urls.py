from django.urls import path

from . import views

app_name = "returns_api"

urlpatterns = [
    path("returns/", views.ReturnsView.as_view(), name="returns"),
    path("returns/<int:return_id>/", views.ReturnDetailView.as_view(), name="return-detail"),
]
