from django.urls import path

from adhesions.access import COS_ADMIN
from adhesions.views import call_pdf_view, certificate_view, contributions_view
from cos import views

app_name = "cos"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.home, name="home"),
    path("<int:pk>/cotisations/", contributions_view(COS_ADMIN, "cos/contributions.html"), name="contributions"),
    path("<int:pk>/cotisations/<int:call>/pdf/", call_pdf_view(COS_ADMIN), name="call_pdf"),
    path("<int:pk>/cotisations/attestation/<int:year>/", certificate_view(COS_ADMIN), name="certificate"),
]
