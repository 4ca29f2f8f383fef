"""How long free text may be.

One limit for every free-text field of the portal (a note, an assessment section, a reason,
a message): about ten printed pages, far more than any record needs and far less than what
would slow every page that shows it. Models carry it (so admin's forms and the portal's
model forms refuse longer text with a message) and so does every hand-written form field;
a test walks every form of the portal to keep it so.
"""

TEXT_MAX_LENGTH = 20_000
