"""types-registry logic: GTS ids and patterns, entities, JSON-Schema validation, the registry engine.

Pure: no web framework, database or HTTP client. Other modules import ``fabrikit.modules.types_registry.sdk``.
"""
