"""Killing the worker in the middle of a campaign: once it is started again, the campaign
finishes with every call computed and rendered exactly once (a real `celery worker`
process on the real Redis broker)."""

import datetime
import random
import signal
from decimal import Decimal

import pytest

from adhesions import demo, services
from adhesions.models import Campaign, ContributionCall, ContributionScale
from cnas.celery import app
from tests.workers import start_worker, stop_worker, wait

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_campaign_survives_a_killed_worker(not_eager):
    app.connection_for_write().default_channel.client.flushdb()  # an empty broker for this test
    regions = demo.ensure_regions()
    specs = demo.generated_adherent_specs(60, offset=700_000, rng=random.Random(7))
    demo.create_adherents(specs, regions)
    year = datetime.date.today().year
    scale = ContributionScale.objects.create(year=year, payroll_rate=Decimal("0.86"), floor_per_agent=Decimal("150"),
                                             cos_per_agent=Decimal("120"), due_date=datetime.date(year, 3, 31))
    worker = start_worker()
    try:
        campaign = services.start_campaign(actor=None, scale=scale)  # sent to the broker on commit
        rendered = ContributionCall.objects.exclude(pdf="")
        wait(lambda: rendered.count() >= 5, 90, "the first PDFs")
        worker.send_signal(signal.SIGKILL)  # in the middle of the chunk
        worker.wait(timeout=10)
        done_before = rendered.count()
        total = ContributionCall.objects.filter(campaign=campaign).count()
        assert 0 < done_before < total, "the worker must be killed in the middle of the campaign"

        worker = start_worker()  # its start puts the unfinished campaign back on its way
        wait(lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DONE, 120, "the campaign")
    finally:
        stop_worker(worker)
    calls = ContributionCall.objects.filter(campaign=campaign)
    assert calls.count() == total == len({s.siret for s in specs})
    assert set(calls.values_list("render_count", flat=True)) == {1}  # each exactly once
    assert not calls.filter(pdf="").exists()
    assert ContributionCall.objects.values("adherent_id").distinct().count() == total  # computed once
