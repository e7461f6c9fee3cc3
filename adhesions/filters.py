import django_filters
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from adhesions.models import Coverage, Employment

# The last day of a coverage period (its range is half-open).
LAST_DAY = ExpressionWrapper(Func(F("period"), function="upper", output_field=DateField()) - Value(1),
                             output_field=DateField())


def roster_queryset(*, adherent, today):
    """The adherent's roster: the latest line of each agent, with its situation, whether the
    agent is covered by this adherent today and, for one who left this year, until when his
    rights are kept — in one query whatever the roster's size."""
    later = Employment.objects.filter(employer=adherent, agent_id=OuterRef("agent_id"),
                                      start_date__gt=OuterRef("start_date"))
    covered = Coverage.objects.filter(adherent=adherent, agent_id=OuterRef("agent_id"),
                                      period__contains=today).order_by()  # no join for the model's ordering
    return (
        Employment.objects.filter(employer=adherent)
        .exclude(Exists(later))
        .select_related("agent")
        # to filter on (never selected): an EXISTS the planner may join over the adherent's coverage rows
        .alias(covered_today=Exists(covered))
        .annotate(covering_id=Subquery(covered.values("pk")[:1]))
        .annotate(
            situation=Case(
                When(end_date__isnull=True, then=Value("working")),
                When(end_reason=Employment.EndReason.RETIREMENT, agent__status="retired", then=Value("retired")),
                default=Value("left"),
            ),
            # a scalar subquery, evaluated for the lines shown only (PostgreSQL would turn an EXISTS into a
            # hash of every coverage row of the adherent)
            is_covered=ExpressionWrapper(Q(covering_id__isnull=False), output_field=BooleanField()),
            kept_until=Subquery(covered.filter(source=Coverage.Source.EXTENSION).order_by("period")
                                .annotate(last=LAST_DAY).values("last")[:1], output_field=DateField()),
        )
    )


class RosterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Nom, prénom ou matricule"))
    situation = django_filters.ChoiceFilter(
        method="filter_situation", label=_("Situation"), empty_label=_("Toutes"),
        choices=[("working", _("en activité")), ("retired", _("retraités")), ("left", _("partis"))],
    )
    covered = django_filters.ChoiceFilter(
        method="filter_covered", label=_("Couverture aujourd'hui"), empty_label=_("Tous"),
        choices=[("yes", _("couverts")), ("no", _("non couverts"))],
    )
    # Each sort order says its direction in words (django-filter would add "(descending)").
    sort = django_filters.OrderingFilter(
        label=_("Trier par"), empty_label=None, null_label=None,
        fields=(("sort_name", "nom"), ("employee_number", "matricule"), ("start_date", "entree")),
        choices=[("nom", _("Nom (A → Z)")), ("-nom", _("Nom (Z → A)")),
                 ("matricule", _("Matricule (croissant)")), ("-matricule", _("Matricule (décroissant)")),
                 ("entree", _("Date d'entrée (la plus ancienne d'abord)")),
                 ("-entree", _("Date d'entrée (la plus récente d'abord)"))],
    )

    class Meta:
        model = Employment
        fields = []

    def search(self, queryset, name, value):
        """Every word in the name (last or first), or the beginning of the employee number: on the
        roster's own lines (their sort name holds both names), walked along the employer's index."""
        value = value.strip()
        if not value:
            return queryset
        by_name = Q()
        for word in value.split():
            by_name &= Q(sort_name__icontains=word)
        return queryset.filter(by_name | Q(employee_number__istartswith=value))

    # The situations of roster_queryset, on the line's own columns first (the agent's status is read
    # only for lines ended by a retirement), so that a filter does not join every agent of the roster.
    RETIRED = Q(end_date__isnull=False, end_reason=Employment.EndReason.RETIREMENT, agent__status="retired")

    def filter_situation(self, queryset, name, value):
        if value == "working":
            return queryset.filter(end_date__isnull=True)
        if value == "retired":
            return queryset.filter(self.RETIRED)
        if value == "left":
            return queryset.filter(end_date__isnull=False).exclude(self.RETIRED)
        return queryset

    def filter_covered(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(covered_today=True)
        if value == "no":
            return queryset.filter(covered_today=False)
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        ordering = queryset.query.order_by or ("sort_name",)
        return queryset.order_by(*ordering, "id")  # a stable order for the pages
