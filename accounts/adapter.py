from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from cnas import outbox
from cnas.links import absolute_url, portal_site


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("accounts:landing")

    # Links of allauth's e-mails: on the portal's address (SITE_URL), not the request's host — right
    # when the e-mail is sent from a worker, or the request came through a proxy (cnas.links).
    def get_email_confirmation_url(self, request, emailconfirmation):
        return absolute_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key):
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return absolute_url(path.replace("UID-KEY", quote(key)))

    def send_mail(self, template_prefix, email, context):
        """Render the message now, send it from the Celery worker after the commit. The site the
        templates name, and every link allauth put in the context from the request (``signup_url``,
        ``password_reset_url``…), are the portal's address."""
        context = {"email": email, **context, "current_site": portal_site()}
        for key, value in context.items():
            if key.endswith("_url") and isinstance(value, str) and value:
                context[key] = absolute_url(value)
        message = self.render_mail(template_prefix, email, context)
        html_body = next(
            (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"),
            "",
        )
        payload = {
            "subject": message.subject,
            "body": message.body,
            "to": list(message.to),
            "html_body": html_body,
            "from_email": message.from_email,
        }
        outbox.enqueue("cnas.tasks.send_email", **payload)
