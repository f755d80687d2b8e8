"""K-13.2, K-13.3: scoped SQL never returns or changes rows outside the caller's AccessScope."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from piccolo.columns import UUID, Integer, Varchar
from piccolo.table import Table

from fabrikit.kernel.db import (
    Database,
    ScopeColumns,
    ScopeDenied,
    ScopedNotFound,
    ScopeError,
    ScopeInvalid,
    TenantNotInScope,
    compile_scope,
    scoped_delete,
    scoped_get,
    scoped_select,
    scoped_update,
    secure_insert,
)
from fabrikit.kernel.errors import PermissionDenied
from fabrikit.kernel.security import AccessScope, Constraint, Eq, In, InGroup, InGroupSubtree, ScopeValue
from tests.strategies.db import IDS, OWNERS, TENANTS, access_scopes, scoped_rows


def make_doc_table(groups: bool = False) -> Any:
    class Doc(Table, tablename="doc"):
        id = UUID(primary_key=True)
        tenant_id = UUID()
        owner_id = UUID()
        kind = Varchar(length=10)
        n = Integer(default=0)
        __scope__ = ScopeColumns(
            tenant=tenant_id, resource=id, owner=owner_id, extra={"kind": kind}, groups=groups
        )

    return Doc


async def create(db: Database, *tables: type[Table]) -> None:
    db.bind(*tables)
    for table in tables:
        for ddl in table.create_table(if_not_exists=True).ddl:
            await db.run_ddl(ddl)


def model_props(row: dict[str, Any]) -> dict[str, ScopeValue]:
    return {
        "owner_tenant_id": row["tenant_id"],
        "id": row["id"],
        "owner_id": row["owner_id"],
        "kind": row["kind"],
    }


def canonical_scope(scope: AccessScope) -> AccessScope:
    """The model's view: UUID strings (any case) denote the same UUID the SQL layer binds."""

    def fix(value: ScopeValue) -> ScopeValue:
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                return value
        return value

    def pred(p: Any) -> Any:
        if isinstance(p, Eq):
            return Eq(p.prop, fix(p.value))
        if isinstance(p, In):
            return In(p.prop, [fix(v) for v in p.values])
        return p

    return AccessScope(
        constraints=tuple(Constraint([pred(p) for p in c.predicates]) for c in scope.constraints),
        unconstrained=scope.unconstrained,
    )


@pytest.fixture
async def doc(db: Database) -> Any:
    table = make_doc_table()
    await create(db, table)
    return table


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=access_scopes(), rows=scoped_rows())
async def test_scoped_queries_match_the_python_model(
    doc: Any, scope: AccessScope, rows: list[dict[str, Any]]
) -> None:
    async def reset() -> None:
        await doc.delete(force=True)
        if rows:
            await doc.insert(*(doc(**r) for r in rows))

    model = canonical_scope(scope)
    visible = {r["id"] for r in rows if model.matches(model_props(r))}

    await reset()
    selected = await scoped_select(doc, scope, [doc.id])
    assert {r["id"] for r in selected} == visible

    await scoped_update(doc, scope, {doc.n: 1})
    changed = await doc.select(doc.id).where(doc.n == 1)
    assert {r["id"] for r in changed} == visible

    await scoped_delete(doc, scope)
    remaining = await doc.select(doc.id)
    assert {r["id"] for r in remaining} == {r["id"] for r in rows} - visible


def test_compile_rules() -> None:
    table = make_doc_table()
    cols = table.__scope__  # type: ignore[attr-defined]
    assert compile_scope(table, cols, AccessScope.allow_all()) is None
    assert compile_scope(table, cols, AccessScope()).sql == "1 = 0"  # type: ignore[union-attr]
    assert compile_scope(table, cols, AccessScope.any_of(Constraint())).sql == "1 = 1"  # type: ignore[union-attr]
    empty_in = compile_scope(table, cols, AccessScope.for_tenant())
    assert empty_in is not None
    assert empty_in.sql == "(1 = 0)"
    unknown = AccessScope.any_of(Constraint([Eq("nope", 1), Eq("owner_tenant_id", TENANTS[0])]))
    assert compile_scope(table, cols, unknown).sql == "1 = 0"  # type: ignore[union-attr]
    two = compile_scope(
        table,
        cols,
        AccessScope.any_of(
            Constraint([Eq("owner_tenant_id", TENANTS[0])]), Constraint([In("kind", ["a", "b"])])
        ),
    )
    assert two is not None
    assert two.sql == '(("doc"."tenant_id" = {})) OR (("doc"."kind" IN ({}, {})))'
    assert two.args == (TENANTS[0], "a", "b")  # values are bound, never inlined
    assert ScopeColumns.unrestricted().is_unrestricted
    assert compile_scope(table, ScopeColumns.unrestricted(), AccessScope()) is None


async def test_group_filters_only_on_tables_declaring_groups(db: Database) -> None:
    await db.run_ddl(
        "CREATE TABLE resource_group_membership (resource_id UUID NOT NULL, group_id UUID NOT NULL)"
    )
    await db.run_ddl(
        "CREATE TABLE resource_group_closure (ancestor_id UUID NOT NULL, descendant_id UUID NOT NULL)"
    )
    grouped = make_doc_table(groups=True)
    await create(db, grouped)
    g_root, g_child, g_other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for ancestor, descendant in ((g_root, g_root), (g_root, g_child), (g_child, g_child), (g_other, g_other)):
        await db.execute("INSERT INTO resource_group_closure VALUES ({}, {})", ancestor, descendant)
    for rid, group in ((IDS[0], g_root), (IDS[1], g_child), (IDS[2], g_other)):
        await db.execute("INSERT INTO resource_group_membership VALUES ({}, {})", rid, group)
    for rid in IDS[:4]:
        await grouped.insert(grouped(id=rid, tenant_id=TENANTS[0], owner_id=OWNERS[0], kind="a"))

    async def ids(scope: AccessScope, table: Any = grouped) -> set[uuid.UUID]:
        return {r["id"] for r in await scoped_select(table, scope, [table.id])}

    assert await ids(AccessScope.any_of(Constraint([InGroup("id", [g_child])]))) == {IDS[1]}
    assert await ids(AccessScope.any_of(Constraint([InGroupSubtree("id", [g_root])]))) == {IDS[0], IDS[1]}
    assert await ids(AccessScope.any_of(Constraint([InGroup("id", [])]))) == set()

    plain = make_doc_table(groups=False)
    db.bind(plain)
    group_or_kind = AccessScope.any_of(Constraint([InGroup("id", [g_root])]), Constraint([Eq("kind", "zzz")]))
    assert await ids(group_or_kind, plain) == set()


async def test_scoped_get_hides_invisible_rows(db: Database, doc: Any) -> None:
    await doc.insert(doc(id=IDS[0], tenant_id=TENANTS[0], owner_id=OWNERS[0], kind="a"))
    row = await scoped_get(doc, AccessScope.for_tenant(TENANTS[0]), IDS[0])
    assert row["kind"] == "a"
    with pytest.raises(ScopedNotFound) as info:
        await scoped_get(doc, AccessScope.for_tenant(TENANTS[1]), IDS[0])
    assert info.value.status == 404


async def test_secure_insert_rules(db: Database, doc: Any) -> None:
    tenant_scope = AccessScope.for_tenant(TENANTS[0])
    row: dict[str, Any] = {"id": IDS[0], "tenant_id": TENANTS[0], "owner_id": OWNERS[0], "kind": "a"}
    stored = await secure_insert(doc, tenant_scope, row)
    assert stored["id"] == IDS[0]
    assert stored["tenant_id"] == TENANTS[0]

    with pytest.raises(TenantNotInScope) as other_tenant:
        await secure_insert(doc, tenant_scope, {**row, "id": IDS[1], "tenant_id": TENANTS[1]})
    assert other_tenant.value.kind == "tenant_not_in_scope"
    assert isinstance(other_tenant.value, PermissionDenied)
    assert other_tenant.value.to_problem().code == "permission_denied"
    assert other_tenant.value.status == 403

    with pytest.raises(ScopeDenied) as denied:
        await secure_insert(doc, AccessScope(), {**row, "id": IDS[1]})
    assert denied.value.kind == "denied"
    assert denied.value.status == 403

    owner_scope = AccessScope.any_of(
        Constraint([Eq("owner_tenant_id", TENANTS[0]), Eq("owner_id", OWNERS[1])])
    )
    with pytest.raises(ScopeDenied):
        await secure_insert(doc, owner_scope, {**row, "id": IDS[1]})

    with pytest.raises(ScopeInvalid) as invalid:
        await secure_insert(doc, tenant_scope, {"id": IDS[1], "owner_id": OWNERS[0], "kind": "a"})
    assert invalid.value.kind == "invalid"
    assert invalid.value.status == 500
    assert isinstance(invalid.value, ScopeError)

    # Predicates on properties the table lacks, on unset columns and group predicates are skipped.
    lenient = AccessScope.any_of(
        Constraint([In("owner_tenant_id", [TENANTS[0]]), Eq("project", "x"), InGroup("id", [uuid.uuid4()])])
    )
    await secure_insert(doc, lenient, {**row, "id": IDS[2]})
    await secure_insert(doc, AccessScope.allow_all(), {**row, "id": IDS[3], "tenant_id": TENANTS[2]})
    assert await doc.count() == 3


async def test_updates_never_change_the_tenant_column(db: Database, doc: Any) -> None:
    await doc.insert(doc(id=IDS[0], tenant_id=TENANTS[0], owner_id=OWNERS[0], kind="a"))
    for key in (doc.tenant_id, "tenant_id"):
        with pytest.raises(ScopeInvalid):
            scoped_update(doc, AccessScope.allow_all(), {key: TENANTS[1]})
    assert await doc.select(doc.tenant_id) == [{"tenant_id": TENANTS[0]}]


async def test_tables_without_scope_columns_are_refused(db: Database) -> None:
    class Bare(Table, tablename="bare"):
        name = Varchar()

    with pytest.raises(ScopeInvalid):
        scoped_select(Bare, AccessScope.allow_all())


async def test_unrestricted_tables_are_not_filtered(db: Database) -> None:
    class Catalog(Table, tablename="catalog"):
        name = Varchar()
        __scope__ = ScopeColumns.unrestricted()

    await create(db, Catalog)
    await secure_insert(Catalog, AccessScope(), {"name": "global"})
    assert await scoped_select(Catalog, AccessScope(), [Catalog.name]) == [{"name": "global"}]
