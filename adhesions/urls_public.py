from django.urls import path

from adhesions.views import contact as views_contact
from adhesions.views import public as views_public

urlpatterns = [
    path("adherer/", views_public.apply_for_membership, name="apply"),
    path("invitation/<str:token>/", views_public.invitation, name="invitation"),
    path("compte/rattachement/", views_public.attach, name="attach"),
    path("contact/", views_contact.contact, name="contact"),
]
