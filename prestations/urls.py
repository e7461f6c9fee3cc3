from django.urls import include, path

from accounts.urls import household_patterns
from prestations import views

app_name = "espace"

urlpatterns = [
    path("", views.home, name="home"),
    path("foyer/", include(household_patterns)),
]
