from django.urls import path

from adhesions import views

app_name = "collectivite"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.home, name="home"),
]
