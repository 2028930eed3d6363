from django.core.management.base import BaseCommand, CommandError

from registry.models import Provider
from verification import health
from verification.models import CheckKind


class Command(BaseCommand):
    help = (
        "Check the curated links (HEAD, GET when refused; redirects followed and recorded) "
        "and probe the APIs (GET <api_base_url>/models, no key) of published providers, "
        "now. A run in which every host fails at the network level reports itself offline "
        "and marks nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", metavar="ID", help="only this provider (its id)")
        parser.add_argument(
            "--kind", choices=CheckKind.values, help="only links or only the API (default: both)"
        )

    def handle(self, *args, provider=None, kind=None, **options):
        providers = Provider.objects.published()
        if provider is not None:
            providers = providers.filter(provider_id=provider)
            if not providers.exists():
                raise CommandError(f"No published provider with id {provider!r}.")
        failed = False
        for each in [kind] if kind else CheckKind.values:
            run = health.run_checks(each, providers)
            label = CheckKind(each).label
            if options["verbosity"]:
                self.stdout.write(
                    f"{label}: {run.targets} checked on {run.hosts} hosts in "
                    f"{(run.finished_at - run.started_at).total_seconds():.1f} s "
                    f"(at most {run.peak_concurrency} at once). {run.summary}"
                )
            if run.offline:
                failed = True
                self.stderr.write(
                    f"{label}: the checker is offline (no network?): nothing was marked broken."
                )
        if failed:
            raise CommandError("Offline: see above.", returncode=2)
