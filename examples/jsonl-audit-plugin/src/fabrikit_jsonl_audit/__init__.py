"""fabrikit-jsonl-audit: mini-chat audit events as JSON lines."""
