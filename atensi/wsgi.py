"""WSGI entry point (gunicorn atensi.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atensi.settings.production")
application = get_wsgi_application()
