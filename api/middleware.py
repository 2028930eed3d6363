"""The API's edge: what every request under /api/ gets before and after any view.

- CORS preflights (OPTIONS) are answered here: any origin may GET; a page of another site
  may POST only with an API token (Authorization), so without one the browser refuses.
- HEAD is GET without the body (django-ninja routes GET only).
- An error that reaches here as HTML (Django's 404 for an unknown address, django-ninja's
  405, a 500) is replaced by the API's JSON error for its status: clients under /api/
  never get a page of HTML.
- Every answer but the docs page gets the API's own Content-Security-Policy, which allows
  nothing: JSON is data, never a document that loads or frames anything. The docs page is
  HTML and keeps the site's policy (byok_site.middleware.SitePolicyMiddleware).
"""

from csp.constants import HEADER as CSP_HEADER
from django.http import HttpResponse

from .errors import generic_error

API_PREFIX = "/api/"
READ_HEADERS = "Authorization, If-None-Match, X-End-User"
WRITE_HEADERS = "Authorization, Content-Type, X-End-User"
KEPT_HEADERS = ("Allow", "Retry-After")
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def api_edge(get_response):
    def middleware(request):
        if not request.path_info.startswith(API_PREFIX):
            return get_response(request)
        if request.method == "OPTIONS":
            response = preflight(request)
        else:
            response = _answer(request, get_response)
        if not response.get("Content-Type", "").startswith("text/html"):
            response.setdefault(CSP_HEADER, API_POLICY)
        return response

    return middleware


def _answer(request, get_response):
    """The view's response, with HEAD as GET without the body, and errors as JSON."""
    head = request.method == "HEAD"
    if head:
        request.method = "GET"
    response = get_response(request)
    if response.status_code >= 400 and not _is_json(response):
        response = _as_json(response)
    if head:
        response.content = b""
    return response


def _is_json(response):
    return response.get("Content-Type", "").startswith("application/json")


def _as_json(response):
    replacement = generic_error(response.status_code)
    for header in KEPT_HEADERS:
        if header in response:
            replacement[header] = response[header]
    return replacement


def preflight(request):
    method = request.headers.get("Access-Control-Request-Method", "")
    asked = request.headers.get("Access-Control-Request-Headers", "")
    asked = {name.strip().lower() for name in asked.split(",") if name.strip()}
    response = HttpResponse(status=204)
    del response["Content-Type"]  # no content (and not a page: see API_POLICY)
    response["Allow"] = "GET, HEAD, POST, OPTIONS"
    response["Vary"] = "Access-Control-Request-Method, Access-Control-Request-Headers"
    if method in ("GET", "HEAD"):
        response["Access-Control-Allow-Methods"] = "GET, HEAD"
        response["Access-Control-Allow-Headers"] = READ_HEADERS
    elif method == "POST" and "authorization" in asked:
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = WRITE_HEADERS
    else:
        return response  # no Access-Control-Allow-Origin: the browser refuses
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Max-Age"] = "86400"
    return response
