from django.urls import path

from . import views

app_name = "sales_channels_api"

urlpatterns = [
    path("channel/", views.OwnChannelView.as_view(), name="own-channel"),
    path("channels/<slug:code>/", views.ChannelDetailView.as_view(), name="channel-detail"),
]
