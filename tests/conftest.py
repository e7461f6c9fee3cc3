import pytest
from django.core.cache import cache

from cnas.celery import app as celery_app


@pytest.fixture(autouse=True)
def _plain_static_and_clean_cache(settings):
    """No manifest needed for tests; no rate limit or cache carried from a test to the next."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Tasks run in the test's own thread unless a test asks for the real worker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture
def celery_worker_thread(django_db_setup, django_db_blocker):
    """A real Celery worker (thread, solo pool) consuming from the real Redis broker, for the test
    that asks for it only (the tests that start worker processes, or that keep messages unread,
    must not find one consuming behind their back)."""
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False
    try:
        with django_db_blocker.unblock(), start_worker(
            celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10,
        ) as worker:
            yield worker
    finally:
        celery_app.conf.task_always_eager = True


@pytest.fixture
def not_eager():
    """Tasks go to the real broker (for a worker process the test starts)."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def real_worker(celery_worker_thread):
    celery_app.conf.task_always_eager = False
    yield celery_worker_thread
    celery_app.conf.task_always_eager = True


# --- Personas -----------------------------------------------------------------------------
# Two tenants, each with an employer and its correspondent, an agent with an account and a
# child, and a COS with its administrator; plus a staff member. Every view is tested with
# the personas of one tenant asking for the other's pages.

import datetime  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP  # noqa: E402

from adhesions import services  # noqa: E402
from adhesions.models import Manager  # noqa: E402
from tests import factories, world  # noqa: E402

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enroll_totp(user):
    TOTP.activate(user, TOTP_SECRET)
    RecoveryCodes.activate(user)
    return user


@dataclass
class Tenant:
    employer: object
    correspondent: object
    agent: object
    agent_user: object
    child: object
    cos: object
    cos_admin: object


def make_tenant(label: str) -> Tenant:
    """Built through the services, as staff, the correspondent and the agent would."""
    region = factories.RegionFactory(code=f"T{label}", name=f"Région {label}")
    employer = world.member_structure(name=f"Commune {label}", region=region, covers_retired=True)
    cos = world.member_structure(cos=True, name=f"COS {label}", region=region)
    correspondent = enroll_totp(factories.UserFactory(email=f"rh-{label}@exemple.test"))
    services.appoint_manager(actor=None, user=correspondent, adherent=employer, role=Manager.Role.CORRESPONDENT)
    cos_admin = enroll_totp(factories.UserFactory(email=f"cos-{label}@exemple.test"))
    services.appoint_manager(actor=None, user=cos_admin, adherent=cos, role=Manager.Role.COS_ADMIN)
    agent_user = factories.UserFactory(email=f"agent-{label}@exemple.test")
    agent = world.hire(employer, datetime.date(2018, 1, 1), first_name=f"Agent{label}", last_name=f"Nom{label}").agent
    agent = services.attach_agent(user=agent_user, agent=agent)
    child = world.child(agent, first_name=f"Enfant{label}")
    return Tenant(employer, correspondent, agent, agent_user, child, cos, cos_admin)


@pytest.fixture
def tenant_a(db):
    return make_tenant("a")


@pytest.fixture
def tenant_b(db):
    return make_tenant("b")


@pytest.fixture
def staff_user(db):
    profile = factories.StaffProfileFactory(user__email="equipe@exemple.test")
    enroll_totp(profile.user)
    return profile.user


@pytest.fixture
def today():
    return datetime.date.today()
