"""gunicorn's logger with the site's key redaction on every line it writes (gunicorn.conf.py).

The filter sits on gunicorn's two loggers themselves, not on their handlers, so it also
covers handlers an operator adds through gunicorn's logconfig settings.
"""

from gunicorn.glogging import Logger

from registry.secrets import RedactSecretsFilter


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())
