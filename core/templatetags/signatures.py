"""Signature forms: whether to ask for the username (§11.200, core.reauth)."""

from django import template

from core import reauth

register = template.Library()


@register.filter
def signature_needs_username(request):
    """True on the first signature of the request's session (username and password)."""
    return reauth.needs_identification(request)
