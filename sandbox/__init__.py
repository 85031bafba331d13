"""Berth's sandbox: Docker containers, the persistent shell, file transfer, images.

Only the Docker SDK here: nothing of LLMs or Qt.
"""
