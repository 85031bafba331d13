"""SVG icons for the app and its toolbar actions, shipped as package data."""
