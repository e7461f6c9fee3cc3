from celery import shared_task

from cos import services


@shared_task
def sync_cos_coverage() -> int:
    """Beat, daily: members whose fee is unpaid at the COS's deadline stop being covered."""
    return services.sync_all_cos_coverage()
