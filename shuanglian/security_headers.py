"""Response headers that tell the browser what a page may do.

Content-Security-Policy itself comes from django-csp's middleware and settings.CONTENT_SECURITY_POLICY.
Permissions-Policy (here) turns off the browser features the app never uses, so that no script, ours
or injected, can reach them.
"""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Adds settings.PERMISSIONS_POLICY ({feature: [allowed origins]}) as the Permissions-Policy header."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
