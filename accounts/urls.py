from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("accueil/", views.landing, name="landing"),
]

household_patterns = (
    [
        path("ajouter/", views.household_add, name="add"),
        path("<int:pk>/modifier/", views.household_edit, name="edit"),
        path("<int:pk>/retirer/", views.household_remove, name="remove"),
    ],
    "household",
)
