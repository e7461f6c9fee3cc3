import datetime

import factory
from allauth.account.models import EmailAddress
from django.db.backends.postgresql.psycopg_any import DateRange

from accounts.models import Agent, FamilyMember, StaffProfile, User
from adhesions.demo import make_siret
from adhesions.models import (
    Adherent,
    AdherentCategory,
    AdherentKind,
    Adhesion,
    Coverage,
    Employment,
    Manager,
    Region,
)

PASSWORD = "Un-mot-de-passe-solide-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.test")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:02d}")
    name = factory.Sequence(lambda n: f"Délégation {n}")


class AdherentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Adherent

    name = factory.Sequence(lambda n: f"Commune de Testville-{n}")
    kind = AdherentKind.COLLECTIVITY
    category = AdherentCategory.COMMUNE
    siret = factory.LazyAttributeSequence(lambda o, n: make_siret(o.category, 500_000 + n))
    region = factory.SubFactory(RegionFactory)
    address = "1 place de la Mairie"
    postcode = "42130"
    city = "Testville"

    class Params:
        cos = factory.Trait(
            kind=AdherentKind.COS, category=AdherentCategory.ASSOCIATION,
            name=factory.Sequence(lambda n: f"COS de Testville-{n}"),
        )


class AdhesionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Adhesion

    adherent = factory.SubFactory(AdherentFactory)
    start_date = datetime.date(2015, 1, 1)
    status = Adhesion.Status.ACTIVE


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    last_name = factory.Faker("last_name", locale="fr_FR")
    first_name = factory.Faker("first_name", locale="fr_FR")
    birth_date = datetime.date(1985, 6, 15)


class FamilyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FamilyMember

    agent = factory.SubFactory(AgentFactory)
    relation = FamilyMember.Relation.CHILD
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.SelfAttribute("agent.last_name")
    birth_date = datetime.date(2015, 3, 1)


class EmploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employment

    agent = factory.SubFactory(AgentFactory)
    employer = factory.SubFactory(AdherentFactory)
    employee_number = factory.Sequence(lambda n: f"MAT{n:05d}")
    start_date = datetime.date(2018, 1, 1)


class CoverageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coverage

    agent = factory.SubFactory(AgentFactory)
    adherent = factory.SubFactory(AdherentFactory)
    period = DateRange(datetime.date(2018, 1, 1), None, "[)")
    source = Coverage.Source.EMPLOYMENT


class ManagerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Manager

    user = factory.SubFactory(UserFactory)
    adherent = factory.SubFactory(AdherentFactory)
    role = Manager.Role.CORRESPONDENT


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory, is_staff=True)
    region = factory.SubFactory(RegionFactory)
