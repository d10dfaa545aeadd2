"""Direct sqlglot node construction: no string parsing and no defensive copies, which the
fluent builder (`exp.select(...).from_("t")`) does on every call. Nodes built here are
fresh; shared parsed definition ASTs are copied before they are placed in a tree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlglot import exp


_TYPES = {
    "date": exp.DataType.Type.DATE, "timestamp": exp.DataType.Type.TIMESTAMP, "double": exp.DataType.Type.DOUBLE,
    "int": exp.DataType.Type.INT, "text": exp.DataType.Type.TEXT, "numeric": exp.DataType.Type.DECIMAL,
    "boolean": exp.DataType.Type.BOOLEAN,
}


def dtype(name: str) -> exp.DataType:
    return exp.DataType(this=_TYPES[name], nested=False)


def ident(name: str, quoted: bool = False) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=quoted)


def col(name: str, table: str | None = None, quoted: bool = False) -> exp.Column:
    return exp.Column(this=ident(name, quoted), table=ident(table) if table else None)


def alias(e: exp.Expression, name: str, quoted: bool = False) -> exp.Alias:
    return exp.Alias(this=e, alias=ident(name, quoted))


def table(name: str | exp.Table, as_: str | None = None) -> exp.Table:
    t = exp.Table(this=ident(name)) if isinstance(name, str) else name
    if as_:
        t.set("alias", exp.TableAlias(this=ident(as_)))
    return t


def and_(conds: Sequence[exp.Expression]) -> exp.Expression | None:
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out = exp.And(this=out, expression=c)
    return out


def left_join(t: exp.Table, on: exp.Expression) -> exp.Join:
    return exp.Join(this=t, side="LEFT", on=on)


def cross_join(t: exp.Table) -> exp.Join:
    return exp.Join(this=t, kind="CROSS")


def select(
    projections: Iterable[exp.Expression],
    from_: exp.Expression | None = None,
    *,
    joins: Sequence[exp.Join] = (),
    where: Sequence[exp.Expression] = (),
    group: int | Sequence[exp.Expression] = 0,
    having: exp.Expression | None = None,
    distinct: bool = False,
) -> exp.Select:
    s = exp.Select(expressions=list(projections))
    if from_ is not None:
        s.set("from_", exp.From(this=from_))
    if joins:
        s.set("joins", list(joins))
    if (w := and_(list(where))) is not None:
        s.set("where", exp.Where(this=w))
    if isinstance(group, int):
        group = [exp.Literal.number(n + 1) for n in range(group)]
    if group:
        s.set("group", exp.Group(expressions=list(group)))
    if having is not None:
        s.set("having", exp.Having(this=having))
    if distinct:
        s.set("distinct", exp.Distinct())
    return s


def cte(name: str, query: exp.Expression, columns: Sequence[str] = ()) -> exp.CTE:
    return exp.CTE(this=query, alias=exp.TableAlias(this=ident(name), columns=[ident(c) for c in columns] or None))


def subquery(query: exp.Expression, as_: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=ident(as_)))
