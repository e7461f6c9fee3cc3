from django.urls import path

from adhesions.views import contributions, imports, payroll, roster, space

app_name = "collectivite"

urlpatterns = [
    path("", space.index, name="index"),
    path("<int:pk>/", space.home, name="home"),
    path("<int:pk>/agents/", roster.roster, name="roster"),
    path("<int:pk>/agents/export.csv", roster.roster_export_csv, name="roster_csv"),
    path("<int:pk>/agents/export.xlsx", roster.roster_export_xlsx, name="roster_xlsx"),
    path("<int:pk>/agents/ajouter/", roster.roster_add, name="roster_add"),
    path("<int:pk>/agents/inviter/", roster.roster_invite_all, name="roster_invite_all"),
    path("<int:pk>/agents/<int:line>/", roster.roster_agent, name="agent"),
    path("<int:pk>/agents/<int:line>/modifier/", roster.roster_edit, name="agent_edit"),
    path("<int:pk>/agents/<int:line>/sortie/", roster.roster_end, name="agent_end"),
    path("<int:pk>/agents/<int:line>/inviter/", roster.roster_invite, name="agent_invite"),
    path("<int:pk>/imports/", imports.imports, name="imports"),
    path("<int:pk>/imports/<int:imp>/", imports.import_detail, name="import"),
    path("<int:pk>/imports/<int:imp>/etat/", imports.import_status, name="import_status"),
    path("<int:pk>/imports/<int:imp>/confirmer/", imports.import_confirm, name="import_confirm"),
    path("<int:pk>/imports/<int:imp>/annuler/", imports.import_cancel, name="import_cancel"),
    path("<int:pk>/imports/<int:imp>/fichier/", imports.import_file, name="import_file"),
    path("<int:pk>/correspondants/", space.correspondents, name="correspondents"),
    path("<int:pk>/masse-salariale/", payroll.payroll, name="payroll"),
    path("<int:pk>/cotisations/", contributions.contributions, name="contributions"),
    path("<int:pk>/cotisations/<int:call>/pdf/", contributions.call_pdf, name="call_pdf"),
    path("<int:pk>/cotisations/attestation/<int:year>/", contributions.certificate, name="certificate"),
]
