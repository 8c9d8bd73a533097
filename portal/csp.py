"""django-csp's middleware, with the site's policy built once instead of on every response.

The portal's policy comes from settings alone: no view changes it (no `csp_update`, `csp_replace`
or `csp_exempt`) and no template asks for a nonce. django-csp still builds the header from the
settings twice a response (the policy and the report-only one, through `dataclasses.asdict`),
about 0.1 ms of every request here. This middleware keeps the built header per settings object
and takes django-csp's own path for anything else: a nonce asked for, a view's own policy, a
report-only policy or excluded prefixes in the settings, a debug page.
"""

from csp import middleware as csp_middleware
from csp.constants import HEADER
from csp.utils import build_policy
from django.conf import settings

PER_RESPONSE = tuple(
    f"_csp_{part}{suffix}"
    for part in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)  # fmt: skip
_built = (None, "")  # (the settings' policy dict it was built from, the header)


def site_policy():
    """The header for the settings' policy, built once per settings object."""
    global _built
    config = getattr(settings, "CONTENT_SECURITY_POLICY", None)
    if _built[0] is not config:
        _built = (config, build_policy())
    return _built[1]


class CSPMiddleware(csp_middleware.CSPMiddleware):
    def process_response(self, request, response):
        config = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        if (
            getattr(request, "_csp_nonce", None) is not None
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or config.get("EXCLUDE_URL_PREFIXES")
            or (settings.DEBUG and response.status_code in (404, 500))
            or any(hasattr(response, name) for name in PER_RESPONSE)
        ):
            return super().process_response(request, response)
        policy = site_policy()
        if policy and HEADER not in response:
            response[HEADER] = policy
        # as django-csp: a nonce asked for after the header was written is an error, not a gap
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
