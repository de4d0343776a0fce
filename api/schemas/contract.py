"""Models generated from the data contract.

:class:`Intake`, :class:`Therapist` and their variants are built from
:data:`features.schemas.TABLES` with the vocabularies of :mod:`features.vocab` as enums, so the
OpenAPI document lists every allowed value and there is no second copy of the contract. The
``TYPE_CHECKING`` stubs only tell the type checker the few attributes the code reads."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import JsonDict

from api.schemas.fields import (
    INT32_MAX,
    MAX_ID,
    MAX_LIST,
    MAX_STR,
    MAX_TOP_K,
    UtcDatetime,
    integer,
    list_item,
    text,
)
from features.codes import HINT, CodeSet, checked, known_codes
from features.schemas import INTAKES, THERAPISTS, Column, Kind, Table
from features.vocab import HOURS_PER_WEEK


class ContractModel(BaseModel):
    """A body shaped like one row of a contract table; unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    def record(self, *, exclude_unset: bool = False) -> dict[str, Any]:
        """The fields as a raw contract record (enum values, ISO times, lists as lists)."""
        return self.model_dump(mode="json", exclude_unset=exclude_unset)


def present(value: str) -> str:
    """A required text value must not be blank (SPEC §2: an empty cell is missing)."""
    if not value:
        raise ValueError("required value is missing")
    return value


CODE_SCHEMAS = {CodeSet.REGION: "RegionCode", CodeSet.LANGUAGE: "LanguageCode"}
"""OpenAPI component holding each ISO code list as an enum (see :func:`code_components`)."""


CODE_LIST = "x-code-list"
"""Marker the OpenAPI document replaces by a reference to the code list's component."""


def with_code_lists(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with every code field pointing at its code-list component."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if CODE_LIST in node:
                return {"$ref": f"#/components/schemas/{node[CODE_LIST]}"}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk(spec)
    out.setdefault("components", {}).setdefault("schemas", {}).update(code_components())
    return dict(out)


def code_components() -> dict[str, dict[str, Any]]:
    """The code lists as OpenAPI components, so schema-driven clients send only real codes."""
    return {
        name: {
            "type": "string",
            "enum": sorted(known_codes(codes)),
            "description": f"{HINT[codes][0].upper()}{HINT[codes][1:]}; the service also "
            "accepts other letter cases and normalises them.",
        }
        for codes, name in CODE_SCHEMAS.items()
    }


def code(codes: CodeSet) -> Any:
    """An ISO code: normalised (``us-ca`` → ``US-CA``), refused with a one-line message naming
    the list when it does not exist; its schema is a reference to the code list's enum."""
    ref = {"type": "string", CODE_LIST: CODE_SCHEMAS[codes]}
    return Annotated[
        text(min_length=1, max_length=MAX_ID, strip=True),
        AfterValidator(partial(checked, codes)),
        WithJsonSchema(ref),
    ]


def _scalar(col: Column) -> Any:
    if col.kind is Kind.STR:
        if col.vocab is not None:
            return col.vocab
        if col.codes is not None:
            return code(col.codes)
        # The contract strips cells and counts a blank one as missing; so does the body.
        bounded = text(
            min_length=1 if col.required else 0, max_length=col.max_len or MAX_STR, strip=True
        )
        if col.required:
            return Annotated[bounded, AfterValidator(present)]
        return bounded
    if col.kind is Kind.INT:
        return integer(col.minimum, col.maximum or INT32_MAX)
    if col.kind is Kind.FLOAT:
        return Annotated[
            float, Strict(), Field(ge=col.minimum, le=col.maximum, allow_inf_nan=False)
        ]
    if col.kind is Kind.BOOL:
        return Annotated[bool, Strict()]
    return UtcDatetime


def _item(col: Column) -> tuple[Any, int]:
    if col.kind is Kind.LIST_INT:
        hi = col.maximum if col.maximum is not None else INT32_MAX
        return integer(col.minimum, hi), HOURS_PER_WEEK
    if col.vocab is not None:
        return col.vocab, len(col.vocab)
    item = text(min_length=1, max_length=MAX_ID, nonblank=True)
    if col.codes is not None:
        return code(col.codes), MAX_LIST
    return Annotated[item, AfterValidator(list_item)], MAX_LIST


def _description(col: Column) -> str:
    parts = [col.doc]
    if col.codes is not None:
        parts.append(f"Each value is {HINT[col.codes]} (case-insensitive).")
    if col.allowed:
        parts.append("Allowed: " + ", ".join(col.allowed) + ".")
    return " ".join(p for p in parts if p)


def distinct(values: list[Any]) -> list[Any]:
    """A contract list names each value once (``anxiety, anxiety`` is a mistake, not emphasis)."""
    counts: dict[Any, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    repeated = [v for v, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(f"lists each value once; repeated: {', '.join(map(str, repeated))}")
    return values


def contract_field(
    col: Column, *, optional: bool = False, nullable: bool = True
) -> tuple[Any, Any]:
    """The pydantic (annotation, FieldInfo) of one contract column.

    ``optional`` lets a required column be left out; ``nullable=False`` then refuses an explicit
    null too (a PATCH cannot clear a required field).
    """
    required = col.required and not optional
    description = _description(col)
    nullable = nullable or not col.required
    if col.kind.is_list:
        item, cap = _item(col)
        lo = col.min_items if col.required else 0
        hi = col.max_items or cap
        annotation: Any = list[item]  # type: ignore[valid-type]
        if col.kind is Kind.LIST_STR:
            annotation = Annotated[annotation, AfterValidator(distinct)]
        unique: JsonDict | None = {"uniqueItems": True} if col.kind is Kind.LIST_STR else None
        if required:
            return annotation, Field(
                min_length=lo, max_length=hi, description=description, json_schema_extra=unique
            )
        return annotation | None if nullable else annotation, Field(
            default=None,
            min_length=lo,
            max_length=hi,
            description=description,
            json_schema_extra=unique,
        )
    scalar = _scalar(col)
    if required:
        return scalar, Field(description=description)
    return scalar | None if nullable else scalar, Field(default=None, description=description)


def contract_model(
    name: str,
    table: Table,
    *,
    optional: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
    all_optional: bool = False,
    base: type[ContractModel] = ContractModel,
    doc: str = "",
    **extra: Any,
) -> type[ContractModel]:
    """A model with one field per column of ``table`` (plus ``extra`` fields)."""
    fields: dict[str, Any] = {
        col.name: contract_field(
            col, optional=all_optional or col.name in optional, nullable=not all_optional
        )
        for col in table.columns
        if col.name not in exclude
    }
    fields.update(extra)
    model = create_model(name, __base__=base, __doc__=doc or None, **fields)
    return model


_INTAKE_DOC = (
    "A client's intake (SPEC §2 intakes). `intake_id` is assigned when missing and "
    "`submitted_at` defaults to now."
)

if TYPE_CHECKING:

    class Intake(ContractModel):
        """Stub: see the generated model."""

        intake_id: str | None

    class MatchRequest(Intake):
        """Stub: see the generated model."""

        top_k: int
        explain: bool

    class Therapist(ContractModel):
        """Stub: see the generated model."""

        therapist_id: str

    class TherapistUpsert(ContractModel):
        """Stub: see the generated model."""

        therapist_id: str | None

    class TherapistPatch(ContractModel):
        """Stub: see the generated model."""

else:
    Intake = contract_model(
        "Intake", INTAKES, optional=frozenset({"intake_id", "submitted_at"}), doc=_INTAKE_DOC
    )
    MatchRequest = contract_model(
        "MatchRequest",
        INTAKES,
        optional=frozenset({"intake_id", "submitted_at"}),
        base=Intake,
        doc=_INTAKE_DOC + " Plus how many matches to return and whether to explain them.",
        top_k=(integer(1, MAX_TOP_K), Field(10, description="Matches wanted.")),
        explain=(bool, Field(False, strict=True, description="Add per-feature contributions.")),
    )
    Therapist = contract_model("Therapist", THERAPISTS, doc="A therapist profile (SPEC §2).")
    TherapistUpsert = contract_model(
        "TherapistUpsert",
        THERAPISTS,
        optional=frozenset({"therapist_id"}),
        doc="A full profile; `therapist_id` may be left out (the path names it) or must match.",
    )
    TherapistPatch = contract_model(
        "TherapistPatch",
        THERAPISTS,
        exclude=frozenset({"therapist_id"}),
        all_optional=True,
        doc="Fields to change; `null` clears an optional field.",
    )


__all__ = [
    "CODE_SCHEMAS",
    "ContractModel",
    "Intake",
    "MatchRequest",
    "Therapist",
    "TherapistPatch",
    "TherapistUpsert",
    "code",
    "code_components",
    "contract_field",
    "contract_model",
    "with_code_lists",
]
