import django_filters
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext_lazy as _

from adhesions.models import Coverage, Employment


def roster_queryset(*, adherent, today):
    """The adherent's roster: the latest line of each agent, with its situation and whether
    the agent is covered by this adherent today, in one query whatever the roster's size."""
    later = Employment.objects.filter(employer=adherent, agent_id=OuterRef("agent_id"),
                                      start_date__gt=OuterRef("start_date"))
    covered = Coverage.objects.filter(adherent=adherent, agent_id=OuterRef("agent_id"), period__contains=today)
    return (
        Employment.objects.filter(employer=adherent)
        .exclude(Exists(later))
        .select_related("agent")
        .annotate(
            situation=Case(
                When(end_date__isnull=True, then=Value("working")),
                When(end_reason=Employment.EndReason.RETIREMENT, agent__status="retired", then=Value("retired")),
                default=Value("left"),
            ),
            is_covered=Exists(covered),
        )
    )


class RosterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Nom, prénom ou matricule"))
    situation = django_filters.ChoiceFilter(
        label=_("Situation"), empty_label=_("Toutes"),
        choices=[("working", _("en activité")), ("retired", _("retraités")), ("left", _("partis"))],
    )
    covered = django_filters.ChoiceFilter(
        method="filter_covered", label=_("Couverture aujourd'hui"), empty_label=_("Tous"),
        choices=[("yes", _("couverts")), ("no", _("non couverts"))],
    )
    sort = django_filters.OrderingFilter(
        label=_("Trier par"), empty_label=None, null_label=None,
        fields=(("agent__last_name", "nom"), ("employee_number", "matricule"), ("start_date", "entree")),
        field_labels={"agent__last_name": _("nom"), "employee_number": _("matricule"),
                      "start_date": _("date d'entrée")},
    )

    class Meta:
        model = Employment
        fields = []

    def search(self, queryset, name, value):
        """Every word in the name (last or first), or the beginning of the employee number."""
        value = value.strip()
        if not value:
            return queryset
        by_name = Q()
        for word in value.split():
            by_name &= Q(agent__last_name__icontains=word) | Q(agent__first_name__icontains=word)
        return queryset.filter(by_name | Q(employee_number__istartswith=value))

    def filter_covered(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(is_covered=True)
        if value == "no":
            return queryset.filter(is_covered=False)
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        ordering = queryset.query.order_by or ("agent__last_name", "agent__first_name")
        return queryset.order_by(*ordering, "id")  # a stable order for the pages
