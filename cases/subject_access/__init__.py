"""Subject access (UU 27/2022 Pasal 32): the register of requests an organisation
receives for the personal data it holds about a person, and the file that answers one —
everything the organisation holds about that person, as one ZIP made in the background.

- `sections`: what goes into the file, one section per kind of record, registered by the
  app that owns the records (referrals adds its own); a test keeps every model that points
  at a case or a person in a section or in the list of what is withheld, with the reason.
- `bundle`: the ZIP (a workbook, the same data as JSON, the documents and the photo, and a
  letter saying what is in it and what was withheld), an export of the kernel's policy.
- `services` / `selectors`: the register.
"""
