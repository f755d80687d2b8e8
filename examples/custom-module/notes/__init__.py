"""An example fabrikit module: per-tenant notes over REST, stored in the module's own database."""
