"""The seven-step setup wizard at /setup/: the seed's "Guided Onboarding".

1 filter providers · 2 community statistics · 3 compare and choose · 4 tips and known
issues · 5 sign-up links · 6 check the API key · 7 rate the experience.

- state.py: what the URL carries (filters, chosen provider, signed start time, minutes);
- render.py: the page around each step, the progress bar, moving between steps;
- steps.py: the seven step views;
- keys.py: the step-6 key check and the host project's key hook;
- forms.py: the filter, key and rating forms.
"""
