"""What a member of staff may see: his regional delegation, or all of them (the national flag
of his profile), or — no profile, no region, no flag — nothing. One helper scopes every admin
queryset (lists, change pages, autocomplete, related lookups, form choices, file downloads),
and it fails closed."""

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef


@dataclass(frozen=True)
class StaffScope:
    national: bool = False
    region_id: int | None = None

    @property
    def sees_nothing(self) -> bool:
        return not self.national and self.region_id is None

    def allows_region(self, region_id: int | None) -> bool:
        return self.national or (region_id is not None and region_id == self.region_id)


NOTHING = StaffScope()
NATIONAL = StaffScope(national=True)


def staff_scope(user) -> StaffScope:
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return NOTHING
    if user.is_superuser:  # made with createsuperuser only, never from the admin
        return NATIONAL
    try:
        profile = user.staff_profile
    except ObjectDoesNotExist:
        return NOTHING
    if profile.is_national:
        return NATIONAL
    return StaffScope(region_id=profile.region_id) if profile.region_id else NOTHING


def agents_of_region(queryset, region_id: int, *, agent_field: str = "pk"):
    """Agents (or rows of an agent) on the roster of an employer of the region, now or before.
    The roster is adhesions' model, named by a string: accounts imports nothing on its right."""
    employment = apps.get_model("adhesions", "Employment")
    return queryset.filter(Exists(employment.objects.filter(agent_id=OuterRef(agent_field),
                                                            employer__region_id=region_id)))


class RegionScopedAdmin:
    """Mixin for a ModelAdmin: ``region_lookup`` leads from the model to its region
    ("adherent__region"); ``national_only`` models are seen by national staff only; ``unscoped``
    says why a model is the same for every region (the catalogue, the scales)."""

    region_lookup: str | None = None
    national_only = False
    unscoped = ""

    def region_filter(self, queryset, region_id: int):
        return queryset.filter(**{self.region_lookup: region_id})

    def scope_queryset(self, request, queryset):
        if self.unscoped:
            return queryset
        scope = staff_scope(request.user)
        if scope.national:
            return queryset
        if scope.sees_nothing or self.national_only:
            return queryset.none()
        return self.region_filter(queryset, scope.region_id)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def get_list_filter(self, request):
        """A filter on a relation offers only the values present in the staff member's scope
        (Django's RelatedOnlyFieldListFilter reads this admin's scoped queryset)."""
        from django.contrib.admin import RelatedOnlyFieldListFilter
        from django.contrib.admin.utils import get_fields_from_path

        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                try:
                    last = get_fields_from_path(self.model, item)[-1]
                except Exception:
                    last = None
                if last is not None and last.is_relation:
                    item = (item, RelatedOnlyFieldListFilter)
            filters.append(item)
        return filters

    def _scoped_choices(self, db_field, request, kwargs):
        related = self.admin_site._registry.get(db_field.related_model)
        if "queryset" not in kwargs and isinstance(related, RegionScopedAdmin):
            kwargs["queryset"] = related.scope_queryset(request, db_field.related_model._default_manager.all())
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._scoped_choices(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **self._scoped_choices(db_field, request, kwargs))
