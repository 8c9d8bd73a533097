from . import access
from .navigation import nav_for


def navigation(request):
    user = getattr(request, "user", None)
    roles = access.roles_of(user)
    return {
        "nav_items": nav_for(user, request.path) if user is not None else [],
        "user_roles": roles,
    }
