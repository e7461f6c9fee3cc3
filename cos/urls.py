from django.urls import path

from adhesions.access import COS_ADMIN
from adhesions.views.contributions import call_pdf_view, certificate_view, contributions_view
from cos import views

app_name = "cos"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.home, name="home"),
    path("<int:pk>/membres/", views.members, name="members"),
    path("<int:pk>/membres/<int:member>/", views.member, name="member"),
    path("<int:pk>/membres/import/", views.member_import, name="member_import"),
    path("<int:pk>/membres/import/<int:imp>/", views.member_import_detail, name="member_import_detail"),
    path("<int:pk>/convention/", views.convention, name="convention"),
    path("<int:pk>/actions/", views.actions, name="actions"),
    path("<int:pk>/actions/<int:action>/", views.action, name="action"),
    path("<int:pk>/actions/<int:action>/presences/", views.action_attendance, name="action_attendance"),
    path("<int:pk>/actions/<int:action>/participants.<str:fmt>", views.action_export, name="action_export"),
    path("<int:pk>/cotisations/", contributions_view(COS_ADMIN, "cos/contributions.html"), name="contributions"),
    path("<int:pk>/cotisations/<int:call>/pdf/", call_pdf_view(COS_ADMIN), name="call_pdf"),
    path("<int:pk>/cotisations/attestation/<int:year>/", certificate_view(COS_ADMIN), name="certificate"),
]
