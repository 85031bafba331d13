"""Sandbox images: Berth's own (from the Dockerfile here) and the offline debootstrap builder."""
