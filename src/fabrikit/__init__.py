"""fabrikit: a plugin-hosting modular framework with a tiny kernel."""

__version__ = "0.1.0"
