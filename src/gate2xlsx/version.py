"""The package version, in the one place pyproject.toml and `gate2xlsx --version` read it."""

__version__ = "0.1.0"
