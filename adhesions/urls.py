from django.urls import path

from adhesions import views

app_name = "collectivite"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.home, name="home"),
    path("<int:pk>/agents/", views.roster, name="roster"),
    path("<int:pk>/agents/export.csv", views.roster_export_csv, name="roster_csv"),
    path("<int:pk>/agents/export.xlsx", views.roster_export_xlsx, name="roster_xlsx"),
    path("<int:pk>/agents/ajouter/", views.roster_add, name="roster_add"),
    path("<int:pk>/agents/inviter/", views.roster_invite_all, name="roster_invite_all"),
    path("<int:pk>/agents/<int:line>/", views.roster_agent, name="agent"),
    path("<int:pk>/agents/<int:line>/modifier/", views.roster_edit, name="agent_edit"),
    path("<int:pk>/agents/<int:line>/sortie/", views.roster_end, name="agent_end"),
    path("<int:pk>/agents/<int:line>/inviter/", views.roster_invite, name="agent_invite"),
    path("<int:pk>/imports/", views.imports, name="imports"),
    path("<int:pk>/imports/<int:imp>/", views.import_detail, name="import"),
    path("<int:pk>/imports/<int:imp>/etat/", views.import_status, name="import_status"),
    path("<int:pk>/imports/<int:imp>/confirmer/", views.import_confirm, name="import_confirm"),
    path("<int:pk>/imports/<int:imp>/annuler/", views.import_cancel, name="import_cancel"),
    path("<int:pk>/imports/<int:imp>/fichier/", views.import_file, name="import_file"),
    path("<int:pk>/correspondants/", views.correspondents, name="correspondents"),
    path("<int:pk>/masse-salariale/", views.payroll, name="payroll"),
    path("<int:pk>/cotisations/", views.contributions, name="contributions"),
    path("<int:pk>/cotisations/<int:call>/pdf/", views.call_pdf, name="call_pdf"),
    path("<int:pk>/cotisations/attestation/<int:year>/", views.certificate, name="certificate"),
]
