from django.urls import path

from . import apis

urlpatterns = [
    path("bulletins/<str:period>/", apis.BulletinDetailApi.as_view(), name="api-bulletin-detail"),
    path("bulletins/<str:period>/build/", apis.BulletinBuildApi.as_view(), name="api-bulletin-build"),
    path("bulletins/<str:period>/override/", apis.BulletinOverrideApi.as_view(), name="api-bulletin-override"),
    path("bulletins/<str:period>/publish/", apis.BulletinPublishApi.as_view(), name="api-bulletin-publish"),
    path("bulletins/<str:period>/schedule/", apis.BulletinScheduleApi.as_view(), name="api-bulletin-schedule"),
]
