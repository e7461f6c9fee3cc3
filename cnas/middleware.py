from django.conf import settings
from django.shortcuts import render


class RequestSizeLimitMiddleware:
    """Refuse an oversized upload from its Content-Length, before anything reads the body
    (the CSRF check would read it all to find its token)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_SIZE:
            response = render(request, "413.html", {"limit_mb": settings.MAX_UPLOAD_SIZE // (1024 * 1024),
                                                    "back": request.META.get("HTTP_REFERER", "")}, status=413)
            response["Connection"] = "close"
            return response
        return self.get_response(request)


PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                      "payment=(), usb=(), interest-cohort=(), browsing-topics=()")


class PermissionsPolicyMiddleware:
    """No page of the portal needs the camera, the microphone, the location or payment APIs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
