from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from cnas import outbox


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("accounts:landing")

    def send_mail(self, template_prefix, email, context):
        """Render the message now, send it from the Celery worker after the commit."""
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
