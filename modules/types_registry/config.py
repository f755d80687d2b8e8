"""``modules.types-registry.config`` (P-1.6)."""

from __future__ import annotations

from fabrikit.kernel import ConfigStruct


class TypesRegistryConfig(ConfigStruct):
    entity_id_fields: tuple[str, ...] = ("$id", "gtsId", "id")
    max_batch_size: int = 1000
    # Off only for `fabrikit types --export[-check]`, which compares schemas/ with what the modules register.
    load_bundled_schemas: bool = True

    def validate(self) -> None:
        if not self.entity_id_fields:
            raise ValueError("entity_id_fields must name at least one field")
        if self.max_batch_size < 1:
            raise ValueError("max_batch_size must be >= 1")
