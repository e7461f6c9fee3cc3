"""Draw the portal's PNG and ICO icons from the drawing of static/img/favicon.svg (the logo: a blue
square, a yellow arc, a white head), with Pillow, since nothing installed rasterises SVG.

Run it again after changing the logo: ``python manage.py draw_icons``.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

BLUE, YELLOW, WHITE = "#1d3f8f", "#ffd24d", "#ffffff"
SCALE = 8  # drawn larger, then reduced: smooth edges


def bezier(p0, p1, p2, p3, steps=64):
    for i in range(steps + 1):
        t = i / steps
        yield tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t**2 * c + t**3 * d
                    for a, b, c, d in zip(p0, p1, p2, p3, strict=True))


def draw(size: int, *, rounded: bool = True, padding: float = 0.0):
    """The logo on a ``size`` pixel square; ``rounded=False`` fills the square (the system rounds it);
    ``padding`` (a share of the side) keeps a maskable icon's drawing inside its safe zone."""
    from PIL import Image, ImageDraw

    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    unit = big / 40
    if rounded:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=8 * unit, fill=BLUE)
    else:
        pen.rectangle((0, 0, big, big), fill=BLUE)
    inner = (1 - 2 * padding) * unit
    offset = padding * big

    def at(x, y):
        return offset + x * inner, offset + y * inner

    width = 3.5 * inner
    for x, y in bezier((10, 26), (14, 17), (26, 17), (30, 26)):
        cx, cy = at(x, y)
        pen.ellipse((cx - width / 2, cy - width / 2, cx + width / 2, cy + width / 2), fill=YELLOW)
    cx, cy = at(20, 14)
    radius = 4.5 * inner
    pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


class Command(BaseCommand):
    help = "Dessine les icônes PNG et ICO du portail (favicon, écran d'accueil, manifeste)."

    def handle(self, *args, **options):
        folder = Path(settings.BASE_DIR) / "static" / "img"
        outputs = {
            "favicon-32.png": draw(32),
            "icon-192.png": draw(192),
            "icon-512.png": draw(512),
            "icon-maskable-512.png": draw(512, rounded=False, padding=0.1),
            "apple-touch-icon.png": draw(180, rounded=False).convert("RGB"),
        }
        for name, image in outputs.items():
            image.save(folder / name, optimize=True)
        draw(48).save(folder / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
        self.stdout.write(self.style.SUCCESS(f"{len(outputs) + 1} icônes écrites dans {folder}."))
