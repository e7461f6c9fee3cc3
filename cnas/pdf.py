"""PDF documents (contribution calls, certificates, decisions…) rendered by WeasyPrint
from Django templates. Fonts: DejaVu, the only family installed here and in the image."""

from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration


@lru_cache(maxsize=1)
def _font_config() -> FontConfiguration:
    return FontConfiguration()


def render_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, {**context, "PORTAL_NAME": settings.PORTAL_NAME,
                                       "PORTAL_FULL_NAME": settings.PORTAL_FULL_NAME,
                                       "BODY": settings.NATIONAL_BODY})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=_font_config())


def blank_pdf() -> bytes:
    """A real one-page PDF (what a scanner would give, without the scan): for the demo and tests."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
