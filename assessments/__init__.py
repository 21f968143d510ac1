"""The annual cycle, reminders and escalation, and unit assessments (later issues)."""
