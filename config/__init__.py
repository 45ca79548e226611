"""Dockhand's settings: the one place that reads the environment and the policy file."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
