import os
import re
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.cache import cache

from cnas.celery import app as celery_app

# --- Parallel runs (pytest-xdist, `make pytest` runs `-n 2`) ---------------------------------------
# Each worker has its own test database (pytest-django suffixes its name: test_cnas_gw0…), and here
# its own Redis database (broker, results and cache: a test that empties its broker, or a worker
# that consumes from it, never touches the other worker's) and its own folder of private files.
# Django's settings are read in each worker before any conftest is, so the controller, which starts
# the workers, gives them these through their environment: the settings read them as usual, and the
# `celery worker` processes a test starts inherit them.

PER_WORKER = ("REDIS_URL", "PRIVATE_MEDIA_ROOT")


def worker_environment(worker_id: str, redis_url: str, private_media_root) -> dict[str, str]:
    """gw<N>: the Redis database of ``redis_url`` + N, and ``private_media_root``-gw<N>."""
    index = int(re.fullmatch(r"gw(\d+)", worker_id).group(1))
    parts = urlsplit(redis_url)
    database = int(parts.path.strip("/") or 0) + index
    return {"REDIS_URL": urlunsplit(parts._replace(path=f"/{database}")),
            "PRIVATE_MEDIA_ROOT": f"{private_media_root}-{worker_id}"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    from django.conf import settings

    for spec in specs:
        spec.env.update(worker_environment(spec.id, settings.REDIS_URL, settings.PRIVATE_MEDIA_ROOT))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["cnas_environment"] = {name: node.gateway.spec.env[name] for name in PER_WORKER}


@pytest.fixture(autouse=True, scope="session")
def _worker_has_its_own_resources(request):
    """In a worker, its settings are really its own (pytest-env, say, did not set them back)."""
    from django.conf import settings

    expected = getattr(request.config, "workerinput", {}).get("cnas_environment")
    if expected:
        actual = {"REDIS_URL": settings.REDIS_URL, "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT)}
        assert actual == expected, f"this xdist worker's settings are {actual}, not its own {expected}"
        assert {name: os.environ.get(name) for name in expected} == expected


# The slowest files first, so that none of them starts last and finishes alone (`--dist loadfile
# --no-loadscope-reorder` hands files out in the order collected); the others keep theirs.
SLOWEST_FIRST = (
    "tests/security/test_crawler.py",
    "tests/reliability/test_hostile_input.py",
    "tests/reliability/test_killed_worker.py",
    "tests/browser/test_workbench.py",
    "tests/cnas/test_settings_and_stack.py",
    "tests/browser/test_accessibility.py",
)


def pytest_collection_modifyitems(config, items):
    if hasattr(config, "workerinput"):
        rank = {path: n for n, path in enumerate(SLOWEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


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
def _flush_truncates_only_the_tables_written():
    """A transactional test (`django_db(transaction=True)`) ends with Django's flush: one TRUNCATE of
    every table, about 3 s here, PostgreSQL making new files for ~90 tables and their indexes. This
    flush locks every table just the same, then truncates only those that hold rows (and, by
    CASCADE, those that refer to them): the same empty database, in a fraction of the time."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    django_sql_flush = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:  # sequences of empty tables too: Django's own
            return django_sql_flush(self, style, tables, reset_sequences=reset_sequences,
                                    allow_cascade=allow_cascade)
        names = ", ".join(self.quote_name(table) for table in tables)
        array = ", ".join("'" + table.replace("'", "''") + "'" for table in tables)
        return [f"""DO $flush$
DECLARE
  tbl text;
  written boolean;
  holding text[] := '{{}}';
BEGIN
  LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE;
  FOREACH tbl IN ARRAY ARRAY[{array}] LOOP
    EXECUTE format('SELECT EXISTS (SELECT FROM %I)', tbl) INTO written;
    IF written THEN holding := holding || tbl; END IF;
  END LOOP;
  IF cardinality(holding) > 0 THEN
    EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%I', t), ', ') FROM unnest(holding) t) || ' CASCADE';
  END IF;
END
$flush$"""]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


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
