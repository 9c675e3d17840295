"""Handlers for login, accounts, databases, collections, fields, callbacks, unsubscribe.

Lookups by name or id (``Account_database``, ``Database_field``, ...) answer an
empty ``<result/>`` when nothing matches; operations on an id that does not exist
raise ``No <entity> with id N``.
"""

from __future__ import annotations

from .auth import SESSION_COOKIE
from .errors import client_fault, not_found
from .params import Params
from .present import (
    Result,
    account_out,
    callback_out,
    collection_out,
    database_out,
    field_out,
    paged,
)
from .registry import Context, operation, value

FIELD_DEF = (
    "name",
    "type",
    "value",
    "display",
    "ordered",
    "length",
    "textlines",
    "lines",
    "big",
    "hidden",
    "index",
    "specialcontent",
)

# ------------------------------------------------------------------------- login


@operation("login")
def login(ctx: Context, p: Params) -> Result:
    session = ctx.auth.login(p.text("username"), p.text("password"), p.opt_text("account"))
    if session is None:
        raise client_fault("Invalid credentials")
    ctx.set_cookies.append(f"{SESSION_COOKIE}={session}; Path=/; HttpOnly")
    return value(True)


# ----------------------------------------------------------------------- account


@operation("Account_retrieve")
def account_retrieve(ctx: Context, p: Params) -> Result:
    account = ctx.state.account(ctx.account)
    ident = p.opt_integer("id")
    if ident is not None and ident != account.id:
        raise not_found("account", ident)
    return {"account": account_out(account)}


@operation("Account_databases")
def account_databases(ctx: Context, p: Params) -> Result:
    state = ctx.state
    return paged(
        "database",
        state.account_databases(ctx.account),
        lambda db: database_out(state, db),
        p.opt_integer("start"),
        p.opt_integer("length"),
        p.flag("allproperties"),
    )


@operation("Account_database")
def account_database(ctx: Context, p: Params) -> Result:
    db = ctx.state.find_database(ctx.account, p.text("identifier"))
    return {} if db is None else {"database": database_out(ctx.state, db)}


@operation("Account_createDatabase")
def account_create_database(ctx: Context, p: Params) -> Result:
    db = ctx.state.create_database(ctx.account, p.text("name"), p.opt_text("description") or "")
    return {"database": database_out(ctx.state, db)}


# ---------------------------------------------------------------------- database


@operation("Database_retrieve")
def database_retrieve(ctx: Context, p: Params) -> Result:
    return {"database": database_out(ctx.state, ctx.state.database(ctx.account, p.integer("id")))}


@operation("Database_update")
def database_update(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    changes = {
        key: text
        for key in ("name", "description", "unsubscribebehavior")
        if (text := p.opt_text(key)) is not None
    }
    ctx.state.update_database(db, changes)
    return value(True)


@operation("Database_remove")
def database_remove(ctx: Context, p: Params) -> Result:
    ctx.state.remove_database(ctx.state.database(ctx.account, p.integer("id")))
    return value(True)


@operation("Database_fields")
def database_fields(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    return paged(
        "field",
        ctx.state.fields_of(db.field_ids),
        field_out,
        p.opt_integer("start"),
        p.opt_integer("length"),
    )


@operation("Database_field")
def database_field(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    found = ctx.state.find_field(db.field_ids, p.text("identifier"))
    return {} if found is None else {"field": field_out(found)}


@operation("Database_createField")
def database_create_field(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    return {"field": field_out(ctx.state.create_field("database", db.id, p.subset(FIELD_DEF)))}


@operation("Database_collections")
def database_collections(ctx: Context, p: Params) -> Result:
    state = ctx.state
    db = state.database(ctx.account, p.integer("id"))
    return paged(
        "collection",
        state.db_collections(db),
        lambda coll: collection_out(state, coll),
        p.opt_integer("start"),
        p.opt_integer("length"),
        p.flag("allproperties"),
    )


@operation("Database_collection")
def database_collection(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    coll = ctx.state.find_collection(db, p.text("identifier"))
    return {} if coll is None else {"collection": collection_out(ctx.state, coll)}


@operation("Database_createCollection")
def database_create_collection(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    return {
        "collection": collection_out(ctx.state, ctx.state.create_collection(db, p.text("name")))
    }


@operation("Database_unsubscribeValues")
def database_unsubscribe_values(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    fields = ctx.state.fields
    return {"map": {fields[fid].name: text for fid, text in db.unsubscribe_values.items()}}


@operation("Database_setUnsubscribeValues")
def database_set_unsubscribe_values(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    # Keys that are not fields of the database are ignored, as in every fields map.
    values = ctx.state.resolve_values(db.field_ids, p.map("fields"), strict=True) or {}
    ctx.state.set_unsubscribe_values(db, values)
    return value(True)


@operation("Database_callbacks")
def database_callbacks(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    callbacks = [ctx.state.callbacks[cid] for cid in db.callback_ids]
    return paged(
        "callback", callbacks, callback_out, p.opt_integer("start"), p.opt_integer("length")
    )


@operation("Database_createCallback")
def database_create_callback(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    url = p.text("url").strip()
    if not url:
        raise client_fault("Invalid callback url ''")
    callback = ctx.state.create_callback(
        db, url, p.opt_text("method") or "json", p.opt_text("expression") or ""
    )
    return {"callback": callback_out(callback)}


# ------------------------------------------------------------------------- fields


@operation("Field_update")
def field_update(ctx: Context, p: Params) -> Result:
    found = ctx.state.db_field(ctx.account, p.integer("id"))
    ctx.state.update_field(found, p.subset(FIELD_DEF))
    return value(True)


@operation("CollectionField_update")
def collection_field_update(ctx: Context, p: Params) -> Result:
    found = ctx.state.coll_field(ctx.account, p.integer("id"))
    ctx.state.update_field(found, p.subset(FIELD_DEF))
    return value(True)


# -------------------------------------------------------------------- collection


@operation("Collection_retrieve")
def collection_retrieve(ctx: Context, p: Params) -> Result:
    coll = ctx.state.collection(ctx.account, p.integer("id"))
    return {"collection": collection_out(ctx.state, coll)}


@operation("Collection_remove")
def collection_remove(ctx: Context, p: Params) -> Result:
    ctx.state.remove_collection(ctx.state.collection(ctx.account, p.integer("id")))
    return value(True)


@operation("Collection_fields")
def collection_fields(ctx: Context, p: Params) -> Result:
    coll = ctx.state.collection(ctx.account, p.integer("id"))
    return paged(
        "collectionfield",
        ctx.state.fields_of(coll.field_ids),
        field_out,
        p.opt_integer("start"),
        p.opt_integer("length"),
    )


@operation("Collection_field")
def collection_field(ctx: Context, p: Params) -> Result:
    coll = ctx.state.collection(ctx.account, p.integer("id"))
    found = ctx.state.find_field(coll.field_ids, p.text("identifier"))
    return {} if found is None else {"collectionfield": field_out(found)}


@operation("Collection_createField")
def collection_create_field(ctx: Context, p: Params) -> Result:
    coll = ctx.state.collection(ctx.account, p.integer("id"))
    created = ctx.state.create_field("collection", coll.id, p.subset(FIELD_DEF))
    return {"collectionfield": field_out(created)}
