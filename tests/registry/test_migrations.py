"""The migrations describe the models exactly."""

from django.core.management import call_command


def test_no_model_change_is_missing_a_migration(db):
    # Provider.trust_score is a generated column built from registry.scoring: a change to
    # the formula must come with a migration, or the database keeps computing the old one.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
