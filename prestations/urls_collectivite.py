from django.urls import path

from prestations import views_collectivite

urlpatterns = [
    path("<int:pk>/attestations/", views_collectivite.attestations, name="attestations"),
    path("<int:pk>/attestations/<int:demande>/", views_collectivite.attestation_decide, name="attestation_decide"),
]
