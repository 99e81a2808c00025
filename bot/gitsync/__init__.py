"""Playbooks from a Git repository (HUBS_CORPUS_GIT): pulled, checked and hot-reloaded."""
