"""gunicorn settings for the BYOK Provider Registry.

gunicorn reads ./gunicorn.conf.py from the directory it starts in; the README's deployment
command also names it (-c gunicorn.conf.py). Bind address and workers stay on the command
line (or WEB_CONCURRENCY, which gunicorn reads itself).

What the access log holds, one line per request:

    [01/Dec/2026:09:30:00 +0000] "GET /providers/openrouter/ HTTP/1.1" 200 5123 3ms

time, method, path, protocol, status, bytes sent and duration. Never the query string (a
visitor may paste a key into a search box, and a key can sit in any parameter), never the
Referer or User-Agent (both can carry one), and no client address (the registry keeps no
raw IP addresses). Every line gunicorn writes, access and error log alike, also passes the
site's key redaction, so a key pasted into a path, or into a malformed request that
gunicorn reports, is written as [redacted].
"""

import os

# GUNICORN_ACCESS_LOG: "-" (stdout, the default), a file path, or empty for no access log.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
logger_class = "byok_site.gunicorn_logging.RedactingLogger"

# Requests gunicorn refuses before Django sees them get gunicorn's own bare error page
# (400, 414, 431), without the site's CSP: gunicorn offers no setting for those pages, so
# keep its limits and let the reverse proxy, which sees such requests first, answer them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
