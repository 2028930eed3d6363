"""Every admin write path that can change a public page shows on that page at once.

Each case renders a page (so it is cached), writes through the admin as a maintainer
would, then renders the page again and finds the change. A write path whose hook to
registry.versioning is forgotten fails here.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib import admin

from registry.admin import MarksPagesStale
from registry.models import Audience, Moderation, ProTip, Provider, Review
from registry.services import add_feedback, submit_tip


@dataclass
class Maintainer:
    """A signed-in maintainer writing through the admin's own forms and actions."""

    client: object
    provider_form: Callable  # the admin_provider_form fixture

    def post(self, url, data):
        response = self.client.post(url, data)
        assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.text)

    def action(self, model, name, objects):
        data = {"action": name, "_selected_action": [o.pk for o in objects]}
        if name == "delete_selected":
            data["post"] = "yes"  # the confirmation page's answer
        self.post(f"/admin/registry/{model._meta.model_name}/", data)


# --- the write paths ----------------------------------------------------------------------


def add_provider(maintainer, newco):
    data = maintainer.provider_form(
        newco,
        provider_id="newer",
        provider_name="Newco Added",
        **{"setup_steps-TOTAL_FORMS": "0", "setup_steps-INITIAL_FORMS": "0"},
    )
    maintainer.post("/admin/registry/provider/add/", data)


def change_provider(maintainer, newco):
    data = maintainer.provider_form(newco, provider_name="Newco Renamed")
    maintainer.post(f"/admin/registry/provider/{newco.pk}/change/", data)


def add_a_setup_step(maintainer, newco):
    data = maintainer.provider_form(newco)
    n = int(data["setup_steps-TOTAL_FORMS"])
    data.update(
        {
            "setup_steps-TOTAL_FORMS": str(n + 1),
            f"setup_steps-{n}-position": "5",
            f"setup_steps-{n}-text": "A newly curated step.",
        }
    )
    maintainer.post(f"/admin/registry/provider/{newco.pk}/change/", data)


def delete_a_setup_step(maintainer, newco):
    data = maintainer.provider_form(newco)
    data["setup_steps-0-DELETE"] = "on"
    maintainer.post(f"/admin/registry/provider/{newco.pk}/change/", data)


def set_audiences(maintainer, newco):
    audience = Audience.objects.create(slug="night-owls", name="Night owls")
    data = maintainer.provider_form(newco, recommended_for=[str(audience.pk)])
    maintainer.post(f"/admin/registry/provider/{newco.pk}/change/", data)


def delete_provider(maintainer, newco):
    maintainer.post(f"/admin/registry/provider/{newco.pk}/delete/", {"post": "yes"})


def bulk_delete_providers(maintainer, newco):
    maintainer.action(Provider, "delete_selected", [newco])


def rename_audience(maintainer, newco):
    audience = newco.recommended_for.get()
    maintainer.post(
        f"/admin/registry/audience/{audience.pk}/change/",
        {"name": "Renamed crowd", "slug": audience.slug},
    )


def add_audience(maintainer, newco):
    maintainer.post("/admin/registry/audience/add/", {"name": "Brand-new crowd", "slug": "bnc"})


def delete_audience(maintainer, newco):
    audience = newco.recommended_for.get()
    maintainer.post(f"/admin/registry/audience/{audience.pk}/delete/", {"post": "yes"})


def bulk_delete_audiences(maintainer, newco):
    maintainer.action(Audience, "delete_selected", list(newco.recommended_for.all()))


def approve_review(maintainer, newco):
    maintainer.action(Review, "approve", Review.objects.filter(provider=newco))


def reject_review(maintainer, newco):
    maintainer.action(Review, "reject", Review.objects.filter(provider=newco))


def edit_review(maintainer, newco):
    review = Review.objects.get(provider=newco)
    maintainer.post(
        f"/admin/registry/review/{review.pk}/change/",
        {
            "provider": str(newco.pk),
            "rating": "5",
            "text": "Edited by a maintainer.",
            "status": Moderation.APPROVED,
        },
    )


def delete_review(maintainer, newco):
    review = Review.objects.get(provider=newco)
    maintainer.post(f"/admin/registry/review/{review.pk}/delete/", {"post": "yes"})


def bulk_delete_reviews(maintainer, newco):
    maintainer.action(Review, "delete_selected", Review.objects.filter(provider=newco))


def approve_tip(maintainer, newco):
    maintainer.action(ProTip, "approve", ProTip.objects.filter(provider=newco))


@dataclass(frozen=True)
class Case:
    write: Callable
    url: str
    before: str  # on the page before the write, gone after ("" for none)
    after: str  # on the page after the write, absent before ("" for none)
    review: str = ""  # a review of Newco's to make first: "pending" or "approved"
    tip: bool = False  # a pending tip of Newco's to make first


CASES = [
    Case(add_provider, "/", "", "Newco Added"),
    Case(change_provider, "/providers/newco/", "Newco AI", "Newco Renamed"),
    Case(add_a_setup_step, "/providers/newco/", "", "A newly curated step."),
    Case(delete_a_setup_step, "/providers/newco/", "Create an account.", ""),
    Case(set_audiences, "/providers/newco/", "Early birds", "Night owls"),
    Case(delete_provider, "/", "Newco AI", ""),
    Case(bulk_delete_providers, "/", "Newco AI", ""),
    Case(rename_audience, "/providers/newco/", "Early birds", "Renamed crowd"),
    Case(add_audience, "/", "", "Brand-new crowd"),  # the browse filter's choices
    Case(delete_audience, "/providers/newco/", "Early birds", ""),
    Case(bulk_delete_audiences, "/providers/newco/", "Early birds", ""),
    Case(approve_review, "/providers/newco/", "", "Worked on the first try.", review="pending"),
    Case(reject_review, "/providers/newco/", "Worked on the first try.", "", review="approved"),
    Case(
        edit_review,
        "/providers/newco/",
        "Worked on the first try.",
        "Edited by a maintainer.",
        review="approved",
    ),
    Case(delete_review, "/providers/newco/", "Worked on the first try.", "", review="approved"),
    Case(
        bulk_delete_reviews, "/providers/newco/", "Worked on the first try.", "", review="approved"
    ),
    Case(approve_tip, "/providers/newco/", "", "Rotate keys monthly.", tip=True),
]


@pytest.fixture
def newco(make_provider):
    provider = make_provider("newco", provider_name="Newco AI", has_free_tier=True)
    provider.setup_steps.create(text="Create an account.")
    provider.recommended_for.set([Audience.objects.create(slug="early-birds", name="Early birds")])
    return provider


@pytest.fixture
def maintainer(admin_client, admin_provider_form):
    return Maintainer(admin_client, admin_provider_form)


@pytest.mark.parametrize("case", CASES, ids=[case.write.__name__ for case in CASES])
def test_an_admin_write_shows_at_once(
    admin_client, maintainer, newco, case, django_assert_num_queries
):
    if case.review:
        add_feedback("newco", 5, "Worked on the first try.")
        Review.objects.update(status=case.review)
    if case.tip:
        submit_tip("newco", "Rotate keys monthly.")
    page = admin_client.get(case.url).text  # rendered and cached
    assert case.before in page
    if case.after:
        assert case.after not in page
    with django_assert_num_queries(1):  # the registry version: served from the cache
        admin_client.get(case.url)

    case.write(maintainer, newco)
    admin_client.get("/admin/")  # shows (and so clears) the admin's "saved" message, so
    # the page below comes through the page cache, not around it as pages with messages do

    page = admin_client.get(case.url).text
    if case.before:
        assert case.before not in page
    assert case.after in page


def test_every_admin_that_can_write_marks_pages_stale(rf, admin_user):
    """An admin for a registry model either uses the mixin or refuses every write (the
    read-only event rows), so no new admin can forget to mark pages stale."""
    request = rf.get("/admin/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        public = model._meta.app_label in ("registry", "catalog", "verification")
        if not public or isinstance(model_admin, MarksPagesStale):
            continue
        writes = [
            verb
            for verb in ("add", "change", "delete")
            if getattr(model_admin, f"has_{verb}_permission")(request)
        ]
        assert not writes, f"{type(model_admin).__name__} can {writes} without the mixin"
