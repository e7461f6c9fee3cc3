"""Private files in an S3-compatible bucket (MinIO, Scaleway, OVHcloud, Outscale, AWS…), for web and
workers on several machines: ``STORAGES["private"]`` when PRIVATE_S3_BUCKET is set (cnas.settings).
Imported only then, so that a portal on one machine never loads boto3."""

from django.utils.deconstruct import deconstructible
from storages.backends.s3 import S3Storage

from cnas.private_files import NO_URL

# Canned ACLs that keep an object to the bucket's owner; any other (public-read, authenticated-read…)
# is refused by cnas.checks. No ACL at all (the default) leaves the bucket's own policy: private.
PRIVATE_ACLS = {"private", "bucket-owner-read", "bucket-owner-full-control"}


@deconstructible
class PrivateS3Storage(S3Storage):
    """The bucket that web and workers share. It never makes a URL, not even a signed one: every file
    is streamed by ``cnas.private_files.serve()``, so that the portal checks every download. Names are
    never overwritten, as on disk."""

    file_overwrite = False
    querystring_auth = True
    custom_domain = None

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise ValueError(NO_URL)
