"""The statistics widget for host pages, and the display filters of our templates.

The statistics widget (the seed's ``streamlit_provider_stats_widget``) can be dropped into
any page of a host Django project::

    # settings.py: INSTALLED_APPS += ["django_htmx", "template_partials", "registry",
    #                                 "onboarding"]
    # urls.py:     path("byok/", include("onboarding.urls")),   # namespace "onboarding"

    {% load registry_widgets %}
    {% provider_stats_widget %}

It shows the total providers tracked, active users, the average success rate and the top
three recommended providers, and refreshes itself every 30 seconds when htmx is on the
page (``{% load django_htmx %}{% htmx_script %}``); without htmx it is a static snapshot.
Pass ``poll=False`` to turn the refresh off: ``{% provider_stats_widget poll=False %}``.
"""

from django import template

from registry.models import Provider

from .. import display

register = template.Library()


@register.inclusion_tag("onboarding/_stats_widget.html")
def provider_stats_widget(poll=True):
    # Two queries whatever the number of providers (ProviderQuerySet.statistics).
    return {"stats": Provider.objects.published().statistics(), "poll": poll}


for _filter in (
    display.difficulty_icon,
    display.difficulty_label,
    display.star_bar,
    display.approval_text,
    display.free_tier_text,
    display.minutes,
    display.trust_terms,
):
    register.filter(_filter.__name__, _filter)
