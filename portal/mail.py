"""E-mail from templates: templates/emails/<name>_subject.txt, <name>.txt and (optional) <name>.html."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string


def render_email(name, context, to):
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, list(to))
    try:
        message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    except TemplateDoesNotExist:
        pass
    return message


def send_email(name, context, to):
    """Send one message; raises on SMTP failure so the calling task can retry."""
    if not to:
        return 0
    return render_email(name, context, to).send(fail_silently=False)
