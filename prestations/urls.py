from django.urls import include, path

from accounts.urls import household_patterns
from cos import views as cos_views
from prestations import views

app_name = "espace"

urlpatterns = [
    path("", views.home, name="home"),
    path("foyer/", include(household_patterns)),
    path("banque/", views.bank_details, name="bank"),
    path("impots/", views.tax, name="tax"),
    path("prestations/", views.catalogue, name="catalogue"),
    path("prestations/<slug:code>/", views.prestation_detail, name="prestation"),
    path("actions/", cos_views.espace_actions, name="actions"),
    path("actions/<int:action>/inscription/", cos_views.espace_register, name="action_register"),
    path("actions/inscriptions/<int:registration>/annuler/", cos_views.espace_cancel, name="action_cancel"),
    path("actions/place/<str:token>/", cos_views.release_seat, name="action_release"),
    path("cos/<int:member>/carte/", cos_views.espace_card, name="cos_card"),
    path("cos/recus/<int:fee>/", cos_views.espace_receipt, name="cos_receipt"),
    path("demandes/", views.demandes, name="demandes"),
    path("demandes/<int:pk>/", views.demande_detail, name="demande"),
    path("demandes/<int:pk>/pieces/", views.demande_document, name="demande_document"),
    path("demandes/<int:pk>/pieces/<int:doc>/", views.demande_file, name="demande_file"),
    path("demandes/<int:pk>/envoyer/", views.demande_submit, name="demande_submit"),
    path("demandes/<int:pk>/retirer/", views.demande_withdraw, name="demande_withdraw"),
    path("demandes/<int:pk>/message/", views.demande_message, name="demande_message"),
    path("demandes/<int:pk>/decision/", views.demande_decision, name="demande_decision"),
    path("demandes/<int:pk>/attestation-de-refus/", views.demande_refusal_attestation,
         name="demande_refusal_attestation"),
]
