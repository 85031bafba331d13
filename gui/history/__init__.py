"""The history panel: saved conversations listed from disk, with their live status, and
the record of which were open at quit."""
