"""Berth's Qt front end: the only layer that imports PySide6."""
