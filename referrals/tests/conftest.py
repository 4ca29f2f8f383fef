from __future__ import annotations

# Service messages are asserted in English, whatever the Indonesian catalogue says.
from cases.tests.conftest import english as english  # an autouse fixture
