from django.urls import path

from governance import views

app_name = "governance"
urlpatterns = [
    path("organisations/switch/", views.organisation_switch, name="organisation-switch"),
]
