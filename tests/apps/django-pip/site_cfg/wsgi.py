"""WSGI config for site_cfg."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_cfg.settings")

application = get_wsgi_application()
