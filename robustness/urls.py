from django.urls import path

app_name = "robustness"
urlpatterns: list = [
]
