#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # A developer's bare `python manage.py …` (no .env, no variables) runs as in `make run`;
    # servers (wsgi.py, Celery) and any deployment that sets its variables are unaffected, and
    # DJANGO_DEBUG=false without a secret key still stops start-up naming the variable.
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.exists(os.path.join(here, ".env")) and not (
        {"DJANGO_DEBUG", "DJANGO_SECRET_KEY"} & os.environ.keys()
    ):
        os.environ["DJANGO_DEBUG"] = "true"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
