"""/api/v1/docs: the API's reference, rendered on the server from its own OpenAPI schema.

Why not django-ninja's Swagger UI or Redoc (which it ships): both draw the page with
script-set inline styles and need more than this site's CSP allows (script-src 'self',
style-src 'self', no inline script or style; swagger-api/swagger-ui#10655 and #7540 are
still open), and both are a megabyte and more of JavaScript for a page that is text. This
one is plain HTML in the site's own style: readable without JavaScript, on a phone and by
keyboard, and always exactly the schema it is generated from.
"""

import json

from django.conf import settings
from django.template.response import TemplateResponse
from ninja.openapi.docs import DocsBase

from .schemas import NO_NUL

METHOD_ORDER = {"get": 0, "post": 1}


def _default(schema):
    """The default as JSON writes it (false, "", null), or None when there is none."""
    return json.dumps(schema["default"]) if "default" in schema else None


def _resolve(schema, components):
    """A schema with its $ref (one level, and inside anyOf) looked up in `components`."""
    if "$ref" in schema:
        return components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _type_text(schema, components):
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        return " or ".join(_type_text(s, components) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if schema.get("type") == "array":
        return f"list of {_type_text(schema.get('items', {}), components)}"
    if "title" in schema and "properties" in schema:
        return schema["title"]
    text = schema.get("type", "object")
    if "format" in schema:
        text += f" ({schema['format']})"
    return text


def _limits_text(schema):
    parts = []
    for key, word in (("minimum", "at least"), ("maximum", "at most"), ("maxLength", "up to")):
        if key in schema:
            parts.append(f"{word} {schema[key]}{' characters' if key == 'maxLength' else ''}")
    if "pattern" in schema and schema["pattern"] != NO_NUL:  # (NUL is refused everywhere)
        parts.append(f"matching {schema['pattern']}")
    return ", ".join(parts)


def _fields(schema, components):
    schema = _resolve(schema, components)
    required = set(schema.get("required", ()))
    rows = []
    for name, field in schema.get("properties", {}).items():
        resolved = _resolve(field, components)
        rows.append(
            {
                "name": name,
                "type": _type_text(field, components),
                "required": name in required,
                "default": _default(field) or _default(resolved),
                "limits": _limits_text(resolved),
                "description": field.get("description") or resolved.get("description", ""),
            }
        )
    return rows


def operations(openapi):
    components = openapi.get("components", {}).get("schemas", {})
    found = []
    for path, methods in openapi.get("paths", {}).items():
        for method, operation in methods.items():
            parameters = [
                {
                    "name": p["name"],
                    "where": p["in"],
                    "type": _type_text(p.get("schema", {}), components),
                    "required": p.get("required", False),
                    "default": _default(p.get("schema", {})),
                    "limits": _limits_text(p.get("schema", {})),
                    "description": p.get("description", ""),
                }
                for p in operation.get("parameters", ())
            ]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            responses = []
            for status, answer in sorted(operation.get("responses", {}).items()):
                content = answer.get("content", {}).get("application/json", {})
                responses.append(
                    {
                        "status": status,
                        "description": answer.get("description", ""),
                        "type": _type_text(content["schema"], components) if content else "",
                    }
                )
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": operation.get("operationId", f"{method}-{path}"),
                    "summary": operation.get("summary", ""),
                    "parameters": parameters,
                    "body": _fields(body["schema"], components) if body else [],
                    "responses": responses,
                }
            )
    found.sort(key=lambda op: (op["path"], METHOD_ORDER.get(op["method"].lower(), 9)))
    return found


class ServerRenderedDocs(DocsBase):
    def render_page(self, request, api, **kwargs):
        openapi = api.get_openapi_schema(path_params=kwargs)
        context = {
            "api": openapi["info"],
            "openapi_url": self.get_openapi_url(api, kwargs),
            "operations": operations(openapi),
            "reads_per_minute": settings.API_READS_PER_MINUTE,
            "token_reads_per_minute": settings.API_TOKEN_READS_PER_MINUTE,
            "token_quota": settings.API_TOKEN_DAILY_QUOTA,
            "cache_seconds": settings.API_CACHE_SECONDS,
            "network_limit": settings.REGISTRY_NETWORK_DAILY_LIMIT,
            "range_limit": settings.REGISTRY_RANGE_DAILY_LIMIT,
            "daily_cap": settings.REGISTRY_DAILY_SUBMISSION_CAP,
            # The page is cached for everyone (api.http.versioned_read): never one
            # visitor's pending messages in it, which stay for their next page instead.
            "messages": (),
        }
        return TemplateResponse(request, "api/docs.html", context).render()
