from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard_view, name="ops-dashboard"),
    path("fix/<int:pk>/", views.fix_view, name="ops-fix"),
]
