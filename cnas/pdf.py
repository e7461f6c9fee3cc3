"""PDF documents (contribution calls, certificates, decisions…) rendered by WeasyPrint
from Django templates. Fonts: DejaVu, the only family installed here and in the image."""

from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration


@lru_cache(maxsize=1)
def _font_config() -> FontConfiguration:
    return FontConfiguration()


def _portal_context() -> dict:
    return {"PORTAL_NAME": settings.PORTAL_NAME, "PORTAL_FULL_NAME": settings.PORTAL_FULL_NAME,
            "BODY": settings.NATIONAL_BODY}


@lru_cache(maxsize=8)
def stylesheet(template: str) -> CSS:
    """A stylesheet (a template rendered with the portal's names) parsed once per process: parsing it
    for each document cost the contribution call a tenth of its time."""
    return CSS(string=render_to_string(template, _portal_context()), base_url=str(settings.BASE_DIR),
               font_config=_font_config())


def render_pdf(template: str, context: dict, *, css: str | None = None) -> bytes:
    """The PDF of ``template``; ``css`` names a stylesheet template applied to it (parsed once per
    process), for documents rendered by the thousand; others carry their ``<style>``."""
    html = render_to_string(template, {**context, **_portal_context()})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        font_config=_font_config(), stylesheets=[stylesheet(css)] if css else None)


def blank_pdf() -> bytes:
    """A real one-page PDF (what a scanner would give, without the scan): for the demo and tests."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
