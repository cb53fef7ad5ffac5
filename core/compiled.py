"""Querysets whose SQL is built once per connection and run again with new values.

A busy page runs the same query shape on every request with different values (a ward,
a page of ids). Building and compiling a queryset with joins, subqueries and window
functions costs Django more than PostgreSQL spends planning and running it. ``rows()``
builds the queryset once, with stand-in values (sentinels) for the ones that change,
compiles it, and from then on runs the same SQL with the real values in place of the
sentinels. The rows come back exactly as the queryset's own iteration makes them: the
same converters, the same model instances with their ``select_related`` objects and
annotations, or the same ``values_list`` tuples.

Only for shapes whose values all reach the SQL as parameters: a sentinel that would be
written into the SQL text itself (LIMIT and OFFSET are) is refused when the shape is
prepared; such values belong in the key instead. A list's length is part of the shape
(``IN (%s, %s)``); an empty list, like a queryset that can match nothing
(``.none()``), gives no rows without a query.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

# Stand-in values: integers no id, ward or page ever takes.
_SENTINEL_BASE = -7_310_000_000_000
# Shapes kept per connection (a few per page in use; the cache starts over beyond this).
_MAX_SHAPES = 256


class _Shape:
    __slots__ = ("sql", "params", "slots", "compiler", "model", "init_list", "populators")


def rows(key, build, **values):
    """The rows of ``build(**values)``, from SQL compiled once per connection for ``key``.

    ``key``: names the shape, with anything that changes its SQL text (a page offset).
    ``build``: a function of the values by name returning the queryset (model instances
    or a ``values_list`` of field names).
    ``values``: integers (ids, a ward) or lists of them, found in the compiled parameters
    by their stand-ins. A value the shape does not use is simply not in its SQL (an
    administrator's queue is not filtered by ward).
    """
    for name, value in values.items():
        if not all(type(v) is int for v in (value if isinstance(value, list | tuple) else [value])):
            raise TypeError(f"compiled.rows: {name} must be an integer or a list of them")
    if any(isinstance(v, list | tuple) and not v for v in values.values()):
        return []
    shape_key = (
        key,
        *((n, len(v) if isinstance(v, list | tuple) else None) for n, v in sorted(values.items())),
    )
    shapes = connection.__dict__.setdefault("_compiled_shapes", {})
    shape = shapes.get(shape_key)
    if shape is None:
        if len(shapes) >= _MAX_SHAPES:  # keys can come from requests (a page number)
            shapes.clear()
        shape = shapes[shape_key] = _prepare(build, values)
    if shape.sql is None:  # the queryset can match nothing
        return []
    params = list(shape.params)
    for index, name, item in shape.slots:
        value = values[name]
        params[index] = value[item] if item is not None else value
    with connection.cursor() as cursor:
        cursor.execute(shape.sql, params)
        fetched = cursor.fetchall()
    if shape.model is None:
        return list(shape.compiler.results_iter(results=[fetched], tuple_expected=True))
    return list(_instances(shape, fetched))


def _prepare(build, values):
    sentinels, stand_ins = {}, {}
    n = 0
    for name, value in sorted(values.items()):
        if isinstance(value, list | tuple):
            stand_ins[name] = []
            for item in range(len(value)):
                n += 1
                sentinels[_SENTINEL_BASE - n] = (name, item)
                stand_ins[name].append(_SENTINEL_BASE - n)
        else:
            n += 1
            sentinels[_SENTINEL_BASE - n] = (name, None)
            stand_ins[name] = _SENTINEL_BASE - n
    queryset = build(**stand_ins)
    shape = _Shape()
    iterable = queryset._iterable_class
    if iterable is ValuesListIterable:
        query = queryset.query
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if list(queryset._fields) != names:
            raise ValueError("compiled.rows: a values_list must name its columns in order")
    elif iterable is not ModelIterable or queryset._known_related_objects:
        raise ValueError("compiled.rows: model instances or a values_list only")
    compiler = queryset.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        shape.sql = None
        return shape
    for sentinel in sentinels:
        if str(sentinel) in sql:
            raise ValueError("compiled.rows: a value is written into the SQL; key it instead")
    shape.sql, shape.params, shape.compiler = sql, tuple(params), compiler
    shape.slots = [(i, *sentinels[p]) for i, p in enumerate(params) if _is_sentinel(p, sentinels)]
    shape.model = None
    if iterable is ModelIterable:
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        shape.model = (klass_info["model"], start, end, compiler.annotation_col_map)
        shape.init_list = [f[0].target.attname for f in select[start:end]]
        shape.populators = get_related_populators(klass_info, select, connection.alias)
    return shape


def _is_sentinel(param, sentinels):
    return type(param) is int and param in sentinels


def _instances(shape, fetched):
    """As ``ModelIterable`` makes them (without known related objects, refused above)."""
    model, start, end, annotations = shape.model
    db = connection.alias
    for row in shape.compiler.results_iter(results=[fetched]):
        obj = model.from_db(db, shape.init_list, row[start:end])
        for populator in shape.populators:
            populator.populate(row, obj)
        for name, position in (annotations or {}).items():
            setattr(obj, name, row[position])
        yield obj
