"""Handlers for profiles and subprofiles: create, search, upsert, update, move, remove.

Single-entity results (``Profile_retrieve``, ``Database_createProfile``, ...) carry
the ``fields`` map; paged results carry it only with ``allproperties=true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import client_fault, not_found
from .models import Collection, Database, Field, Profile, Subprofile
from .params import Params, Requirement
from .present import Result, paged, profile_out, subprofile_out
from .query import Condition, order_by, resolve
from .registry import Context, operation, value
from .state import State


def _creation_values(
    state: State, conditions: Sequence[Condition], field_ids: Sequence[int], fields: dict[str, str]
) -> dict[int, str]:
    """Values for an upsert that creates: the ``=`` requirement values, then ``fields``."""
    initial: dict[int, str] = {}
    for cond in conditions:
        if not cond.is_equality:
            continue
        stored = cond.field.normalise(cond.value)
        if stored is None:
            raise _invalid(cond.value, cond.field)
        initial[cond.field.id] = stored
    initial.update(state.resolve_values(field_ids, fields, strict=True) or {})
    return initial


def _invalid(raw: str, found: Field) -> Exception:
    return client_fault(f"Invalid value '{raw}' for field '{found.name}' (type {found.type})")


def _profiles_page(ctx: Context, p: Params, profiles: Sequence[Profile]) -> Result:
    full = p.flag("allproperties")
    state = ctx.state
    return paged(
        "profile",
        profiles,
        lambda prof: profile_out(state, prof, full),
        p.opt_integer("start"),
        p.opt_integer("length"),
        full,
    )


def _subprofiles_page(ctx: Context, p: Params, subs: Sequence[Subprofile]) -> Result:
    full = p.flag("allproperties")
    state = ctx.state
    return paged(
        "subprofile",
        subs,
        lambda sub: subprofile_out(state, sub, full),
        p.opt_integer("start"),
        p.opt_integer("length"),
        full,
    )


# ---------------------------------------------------------------- database level


@operation("Database_createProfile")
def database_create_profile(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    values = ctx.state.resolve_values(db.field_ids, p.map("fields"), strict=True) or {}
    return {"profile": profile_out(ctx.state, ctx.state.create_profile(db, values), True)}


@operation("Database_searchProfiles")
def database_search_profiles(ctx: Context, p: Params) -> Result:
    state = ctx.state
    db = state.database(ctx.account, p.integer("id"))
    fields = state.fields_of(db.field_ids)
    hits = state.select(resolve(fields, p.requirements()), state.db_profiles[db.id])
    hits = order_by(hits, fields, p.opt_text("order"), p.flag("asc", True))
    return _profiles_page(ctx, p, hits)


def _update_profiles(
    ctx: Context, p: Params, db: Database, requirements: list[Requirement]
) -> Result:
    state = ctx.state
    conditions = resolve(state.fields_of(db.field_ids), requirements)
    fields = p.map("fields")
    values = state.resolve_values(db.field_ids, fields, strict=True) or {}
    interests = p.map("interests")
    hits = state.select(conditions, state.db_profiles[db.id])
    if hits:
        # An empty (or entirely dropped) requirement list matches every profile.
        for profile in hits:
            state.set_values(profile, values)
            state.set_interests(profile, interests)
    elif p.flag("create"):
        created = state.create_profile(
            db, _creation_values(state, conditions, db.field_ids, fields)
        )
        state.set_interests(created, interests)
        hits = [created]
    if not ctx.options.updateprofiles_returns_items:
        hits = []
    return _profiles_page(ctx, p, hits)


@operation("Database_updateProfiles")
def database_update_profiles(ctx: Context, p: Params) -> Result:
    db = ctx.state.database(ctx.account, p.integer("id"))
    return _update_profiles(ctx, p, db, p.requirements())


@operation("View_updateProfiles")
def view_update_profiles(ctx: Context, p: Params) -> Result:
    # The fake has no views (selections); say so the way an unknown id is reported.
    p.requirements()
    raise not_found("view", p.integer("id"))


@operation("Database_distinctProfiles")
def database_distinct_profiles(ctx: Context, p: Params) -> Result:
    state = ctx.state
    db = state.database(ctx.account, p.integer("id"))
    wanted = {name.strip().casefold() for name in p.str_list("fields")}
    fields = [f for f in state.fields_of(db.field_ids) if f.name.casefold() in wanted]
    seen: dict[tuple[str, ...], Profile] = {}
    for profile in state.db_profiles[db.id].values():
        key = tuple(profile.values.get(f.id, "") for f in fields)
        seen.setdefault(key, profile)
    firsts = order_by(list(seen.values()), fields, p.opt_text("order"), p.flag("asc", True))

    def build(profile: Profile) -> Result:
        out = profile_out(state, profile, False)
        out["fields"] = {f.name: profile.values.get(f.id, "") for f in fields}
        return out

    return paged("profile", firsts, build, p.opt_integer("start"), p.opt_integer("length"))


@operation("Database_removeProfiles")
def database_remove_profiles(ctx: Context, p: Params) -> Result:
    state = ctx.state
    db = state.database(ctx.account, p.integer("id"))
    mine = state.db_profiles[db.id]
    # Ids that are not profiles of this database are skipped, not reported.
    for ident in p.int_list("ids"):
        profile = mine.get(ident)
        if profile is not None:
            state.remove_profile(profile)
    return value(True)


# -------------------------------------------------------------- collection level


@operation("Collection_searchSubProfiles")
def collection_search_subprofiles(ctx: Context, p: Params) -> Result:
    state = ctx.state
    coll = state.collection(ctx.account, p.integer("id"))
    fields = state.fields_of(coll.field_ids)
    hits = state.select(resolve(fields, p.requirements()), state.coll_subs[coll.id])
    hits = order_by(hits, fields, p.opt_text("order"), p.flag("asc", True))
    return _subprofiles_page(ctx, p, hits)


@operation("Collection_subProfile")
def collection_subprofile(ctx: Context, p: Params) -> Result:
    coll = ctx.state.collection(ctx.account, p.integer("id"))
    sub = ctx.state.coll_subs[coll.id].get(p.integer("identifier"))
    return {} if sub is None else {"subprofile": subprofile_out(ctx.state, sub, True)}


@operation("Collection_removeSubProfiles")
def collection_remove_subprofiles(ctx: Context, p: Params) -> Result:
    state = ctx.state
    coll = state.collection(ctx.account, p.integer("id"))
    mine = state.coll_subs[coll.id]
    for ident in p.int_list("ids"):
        sub = mine.get(ident)
        if sub is not None:
            state.remove_subprofile(sub)
    return value(True)


@operation("Collection_unsubscribe")
def collection_unsubscribe(ctx: Context, p: Params) -> Result:
    state = ctx.state
    coll = state.collection(ctx.account, p.integer("id"))
    ident = p.ref_id("subprofile")
    sub = state.coll_subs[coll.id].get(ident)
    if sub is None:
        raise not_found("subprofile", ident)
    if coll.unsubscribebehavior == "remove":
        state.remove_subprofile(sub)
    return value(True)


# ------------------------------------------------------------------------ profile


@operation("Profile_retrieve")
def profile_retrieve(ctx: Context, p: Params) -> Result:
    return {
        "profile": profile_out(ctx.state, ctx.state.profile(ctx.account, p.integer("id")), True)
    }


@operation("Profile_fields")
def profile_fields(ctx: Context, p: Params) -> Result:
    state = ctx.state
    profile = state.profile(ctx.account, p.integer("id"))
    return {"map": state.named_values(profile, state.databases[profile.database].field_ids)}


@operation("Profile_updateFields")
def profile_update_fields(ctx: Context, p: Params) -> Result:
    state = ctx.state
    profile = state.profile(ctx.account, p.integer("id"))
    values = state.resolve_values(
        state.databases[profile.database].field_ids, p.map("fields"), strict=False
    )
    if values is None:
        # "false when the constraint check fails", and nothing is changed.
        return value(False)
    state.set_values(profile, values)
    return value(True)


@operation("Profile_remove")
def profile_remove(ctx: Context, p: Params) -> Result:
    ctx.state.remove_profile(ctx.state.profile(ctx.account, p.integer("id")))
    return value(True)


@operation("Profile_move")
def profile_move(ctx: Context, p: Params) -> Result:
    """Merge: the source (``profile``) gives its subprofiles to the target (``id``) and goes."""
    state = ctx.state
    target = state.profile(ctx.account, p.integer("id"))
    source = state.profile(ctx.account, p.ref_id("profile"))
    if source.id == target.id:
        raise client_fault("Cannot move a profile onto itself")
    if source.database != target.database:
        raise client_fault(f"Profile {source.id} is not in the database of profile {target.id}")
    for sub in list(state.profile_subs[source.id].values()):
        state.move_subprofile(sub, target)
    state.remove_profile(source)
    return value(True)


def _profile_collection(ctx: Context, profile: Profile, ident: int) -> Collection:
    coll = ctx.state.collection(ctx.account, ident)
    if coll.database != profile.database:
        raise not_found("collection", ident)
    return coll


@operation("Profile_createSubProfile")
def profile_create_subprofile(ctx: Context, p: Params) -> Result:
    state = ctx.state
    profile = state.profile(ctx.account, p.integer("id"))
    coll = _profile_collection(ctx, profile, p.ref_id("collection"))
    values = state.resolve_values(coll.field_ids, p.map("fields"), strict=True) or {}
    return {
        "subprofile": subprofile_out(state, state.create_subprofile(coll, profile, values), True)
    }


@operation("Profile_searchSubProfiles")
def profile_search_subprofiles(ctx: Context, p: Params) -> Result:
    state = ctx.state
    profile = state.profile(ctx.account, p.integer("id"))
    requirements = p.requirements()
    if "collection" in p:
        coll = _profile_collection(ctx, profile, p.ref_id("collection"))
        fields = state.fields_of(coll.field_ids)
        hits = state.select(resolve(fields, requirements), state.profile_universe(profile, coll))
        hits = order_by(hits, fields, p.opt_text("order"), p.flag("asc", True))
    elif "miniview" in p:
        raise not_found("miniview", p.ref_id("miniview"))
    else:
        # No collection: search every collection, each with its own fields.
        hits = []
        for coll in state.db_collections(state.databases[profile.database]):
            conditions = resolve(state.fields_of(coll.field_ids), requirements)
            hits += state.select(conditions, state.profile_universe(profile, coll))
        hits.sort(key=lambda sub: sub.id)
    return _subprofiles_page(ctx, p, hits)


@operation("Profile_updateSubProfiles")
def profile_update_subprofiles(ctx: Context, p: Params) -> Result:
    state = ctx.state
    profile = state.profile(ctx.account, p.integer("id"))
    coll = _profile_collection(ctx, profile, p.ref_id("collection"))
    conditions = resolve(state.fields_of(coll.field_ids), p.requirements())
    fields = p.map("fields")
    values = state.resolve_values(coll.field_ids, fields, strict=True) or {}
    hits = state.select(conditions, state.profile_universe(profile, coll))
    if hits:
        for sub in hits:
            state.set_values(sub, values)
    elif p.flag("create"):
        initial = _creation_values(state, conditions, coll.field_ids, fields)
        hits = [state.create_subprofile(coll, profile, initial)]
    if not ctx.options.updateprofiles_returns_items:
        hits = []
    return _subprofiles_page(ctx, p, hits)


# --------------------------------------------------------------------- subprofile


@operation("SubProfile_retrieve")
def subprofile_retrieve(ctx: Context, p: Params) -> Result:
    sub = ctx.state.subprofile(ctx.account, p.integer("id"))
    return {"subprofile": subprofile_out(ctx.state, sub, True)}


@operation("SubProfile_updateFields")
def subprofile_update_fields(ctx: Context, p: Params) -> Result:
    state = ctx.state
    sub = state.subprofile(ctx.account, p.integer("id"))
    values = state.resolve_values(
        state.collections[sub.collection].field_ids, p.map("fields"), strict=False
    )
    if values is None:
        return value(False)
    state.set_values(sub, values)
    return value(True)


@operation("SubProfile_remove")
def subprofile_remove(ctx: Context, p: Params) -> Result:
    ctx.state.remove_subprofile(ctx.state.subprofile(ctx.account, p.integer("id")))
    return value(True)


@operation("SubProfile_moveToProfile")
def subprofile_move_to_profile(ctx: Context, p: Params) -> Result:
    state = ctx.state
    sub = state.subprofile(ctx.account, p.integer("id"))
    state.move_subprofile(sub, state.profile(ctx.account, p.ref_id("profile")))
    return value(True)
