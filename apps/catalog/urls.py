from django.urls import path

from . import views

urlpatterns = [
    path("catalog/images/<str:checksum>", views.image, name="catalog-image"),
]
