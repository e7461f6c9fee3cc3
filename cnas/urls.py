from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from adhesions import urls as adhesions_urls
from cnas import views
from prestations import urls_collectivite as attestation_urls

# Staff log in through allauth, so that their second factor is asked for.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path("sante/", views.health, name="health"),
    path("sante/web/", views.liveness, name="liveness"),
    path("accounts/", include("allauth.urls")),
    path("", include("adhesions.urls_public")),
    path("compte/", include("accounts.urls")),
    path("espace/", include("prestations.urls")),
    # the collectivity space: the roster and contributions (adhesions), the attestations (prestations)
    path("collectivite/", include((adhesions_urls.urlpatterns + attestation_urls.urlpatterns, "collectivite"))),
    path("cos/", include("cos.urls")),
    path("admin/", admin.site.urls),
]
