from django.urls import path

from assessments import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
]
