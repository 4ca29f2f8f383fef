"""Retention: the beneficiaries whose purpose ended are anonymised (UU 27/2022).

It composes the kernel, cases and referrals, so it lives in the project layer:

- `eligibility`: who is due (every case closed long enough ago, in every organisation,
  merged records following their survivor; old enough, when the birth date is known);
- `scrub`: what is removed from each record tied to the child and from every copy of it
  (access log, referral summaries, timeline, the search log, history rows);
- `run`: one run at a time (a Postgres advisory lock), a child per transaction, the run
  recorded in `atensi.core.models.ErasureRun`.

Entry points: `manage.py erase_expired [--dry-run]` and the monthly beat task
`atensi.erase_expired` (atensi/tasks.py). docs/security.md, "Retention", states the promise.
"""
