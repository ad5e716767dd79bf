"""Exceptions raised by sentinel-core, all under one root class."""

from __future__ import annotations


class SentinelError(Exception):
    """Root of every error that sentinel raises on purpose."""


class PluginError(SentinelError):
    """A plugin failed to load, validate or register."""


class ConflictError(PluginError):
    """Two plugins claim the same type name or command."""


class MissingDependencyError(SentinelError, ImportError):
    """An import target needs a distribution or extra that is not installed."""


class ImportTargetError(SentinelError, ValueError):
    """An import target string is malformed or names a missing attribute."""


class UnknownTypeError(SentinelError, LookupError):
    """No plugin registered a type of that kind and name."""


class ConfigError(SentinelError):
    """A configuration file or value is invalid."""


class PermanentTaskError(SentinelError):
    """A task failure that retrying cannot fix (bad input, rejected file).

    The queue moves the job to the failed list at once instead of retrying.
    """
