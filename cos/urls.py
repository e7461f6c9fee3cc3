from django.urls import path

from cos import views

app_name = "cos"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.home, name="home"),
]
