"""oagw — the outbound API gateway (spec: oagw.md). Import the public API from ``fabrikit.modules.oagw.sdk``."""
