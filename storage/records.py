"""Validation of Timestream records and data frames into columnar rows.

`validate_records` applies Timestream's rules record by record (merging
CommonAttributes first): names, reserved names, limits, value types, time units and
the writable time window. A malformed request fails whole with ValidationError; a
record that breaks a data rule is rejected alone, with Timestream's reason, and the
rest go on. `validate_frame` does the same for a pandas frame with numpy, not per row.

The result is a `Rows`: series keys plus columnar time, version and value arrays,
ready for the engine to resolve series, check versions and store.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tsql.arrays import factorize_rows
from tsql.errors import ValidationError

from .catalog import TableInfo, TableSchema

MAX_RECORDS = 100
MAX_DIMENSIONS = 128  # per record and per table
MAX_MEASURES_PER_TABLE = 8192
MAX_ATTRIBUTES_PER_TABLE = 1024
MAX_MEASURES_PER_RECORD = 256
MAX_NAME_BYTES_DIMENSION = 60
MAX_NAME_BYTES_MEASURE = 256
MAX_VALUE_BYTES = 2048
MAX_SERIES_BYTES = 2048  # dimension names and values of one series
FUTURE_ALLOWANCE_NS = 15 * 60 * 10**9
MAX_TIME_NS = 2**63 - 1  # 2262-04-11 23:47:16.854775807

VALUE_TYPES = ("DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP")
TIME_UNITS = {"MILLISECONDS": 10**6, "SECONDS": 10**9, "MICROSECONDS": 10**3, "NANOSECONDS": 1}
_RESERVED = {"time", "measure_name", "measure_value", "ts_non_existent_col"}


class Rejected(Exception):
    """A record breaks a data rule; the message is the RejectedRecord Reason."""


def check_column_name(name: str, what: str) -> None:
    """Names that become columns may not collide with tsql's reserved columns."""
    low = name.lower()
    if low in _RESERVED or low.startswith("ts_") or low.startswith("measure_value") or ":" in name:
        raise Rejected(
            f"The {what} name '{name}' is reserved or invalid: names may not be time, measure_name, "
            "measure_value or ts_non_existent_col, start with ts_ or measure_value, or contain ':'."
        )


def _utf8_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8"))


@dataclass
class Rows:
    """Validated records of one write, in columns (one entry per accepted record)."""

    index: np.ndarray  # position of each row in the request
    key_codes: np.ndarray  # per row, its series key's position in unique_keys
    unique_keys: list  # distinct series keys: (measure_name, ((dim, value), ...) sorted)
    time: np.ndarray  # int64 ns
    version: np.ndarray  # int64
    values: dict  # column -> (values ndarray, nulls ndarray or None)
    schema: TableSchema  # the table's schema including what these rows add
    rejected: list = field(default_factory=list)  # [{"RecordIndex", "Reason"}]

    def __len__(self) -> int:
        return len(self.time)


def writable_window(table: TableInfo, now_ns: int) -> tuple[int, int, str]:
    """[start, end) of times a write may carry, and the name of that window in reasons."""
    end = now_ns + FUTURE_ALLOWANCE_NS
    if table.magnetic_store_writes:
        return max(0, now_ns - table.magnetic_retention_ns), end, "data ingestion window"
    return max(0, now_ns - table.memory_retention_ns), end, "memory store"


def format_instant(ns: int) -> str:
    """ISO-8601 with milliseconds, as Timestream prints the window in reasons."""
    ts = pd.Timestamp(int(ns), unit="ns")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def outside_window_reason(start: int, end: int, window_name: str) -> str:
    return (
        f"The record timestamp is outside the time range [{format_instant(start)}, "
        f"{format_instant(end)}) of the {window_name}."
    )


# --- write_records ------------------------------------------------------------------

def validate_records(table: TableInfo, records, common_attributes, now_ns: int, checked: dict | None = None) -> Rows:
    """`checked`: the table's memory of dimension lists already accepted (records
    carrying one skip the per-dimension checks); None to check everything."""
    checked = {} if checked is None else checked
    if not isinstance(records, (list, tuple)):
        raise ValidationError("Records must be a list of record dicts.")
    if not 1 <= len(records) <= MAX_RECORDS:
        raise ValidationError(
            f"1 validation error detected: Value at 'records' failed to satisfy constraint: "
            f"Member must have length between 1 and {MAX_RECORDS}, inclusive (got {len(records)})."
        )
    common = _check_shape(common_attributes, "commonAttributes") if common_attributes else {}
    common_dims = common.get("Dimensions") or []
    common_dim_names = {d.get("Name") for d in common_dims if isinstance(d, dict)}
    schema = table.schema.copy()
    start, end, window_name = writable_window(table, now_ns)
    partition = table.partition_key

    known = set(schema.dimensions)
    index, key_codes, times, versions, row_values = [], [], [], [], []
    key_positions: dict[tuple, int] = {}
    rejected = []
    for i, record in enumerate(records):
        record = _check_shape(record, i)
        if common:
            for d in record.get("Dimensions") or ():
                if isinstance(d, dict) and d.get("Name") in common_dim_names:
                    raise ValidationError(
                        f"Dimension '{d.get('Name')}' is given both in CommonAttributes and in record {i}."
                    )
            merged = dict(common)
            merged.update({k: v for k, v in record.items() if v is not None})
            if common_dims and record.get("Dimensions"):
                merged["Dimensions"] = list(common_dims) + list(record["Dimensions"])
            record = merged
        version = _parse_version(record.get("Version"), i)
        sizes = (len(schema.dimensions), len(schema.measures), len(schema.attributes))
        try:
            dims = None
            cached = _cached_dimensions(checked, record.get("Dimensions") or ())
            if cached is not None and known.issuperset(cached[1]):  # else remembered from a write
                dims = cached[0]  # whose schema changes were not kept
            new_dims = dims is None
            if new_dims:
                dims = _parse_dimensions(record.get("Dimensions") or (), schema, known, _where(i))
            measure_name = record.get("MeasureName")
            if not isinstance(measure_name, str) or not measure_name:
                raise Rejected("The record has no MeasureName.")
            if _utf8_len(measure_name) > MAX_NAME_BYTES_MEASURE:
                raise Rejected(f"The measure name '{measure_name[:40]}...' exceeds {MAX_NAME_BYTES_MEASURE} bytes.")
            t = _parse_time(record.get("Time"), record.get("TimeUnit"))
            if not start <= t < end:
                raise Rejected(outside_window_reason(start, end, window_name))
            values = _parse_values(record, measure_name, schema, dims)
            if _requires_key(partition) and not any(n == partition.name for n, _ in dims):
                raise Rejected(missing_key_reason(partition))
        except Rejected as e:
            rejected.append({"RecordIndex": i, "Reason": str(e)})
            _forget_new_columns(schema, known, sizes)  # a rejected record teaches the table nothing
            continue
        if new_dims:  # accepted: later records with these dimensions skip their checks
            _remember_dimensions(checked, record.get("Dimensions") or (), dims)
        index.append(i)
        key = (measure_name, dims if type(dims) is tuple else tuple(sorted(dims)))
        code = key_positions.get(key)
        if code is None:
            code = key_positions[key] = len(key_positions)
        key_codes.append(code)
        times.append(t)
        versions.append(version)
        row_values.append(values)

    columns = _columnize(row_values, schema)
    return Rows(
        np.array(index, dtype=np.int64), np.array(key_codes, dtype=np.int64), list(key_positions),
        np.array(times, dtype=np.int64), np.array(versions, dtype=np.int64), columns, schema, rejected,
    )


def _forget_new_columns(schema: TableSchema, known: set, sizes: tuple) -> None:
    """Undo what one record added to the schema (dicts and the list keep insertion order)."""
    dims, measures, attributes = sizes
    for name in schema.dimensions[dims:]:
        known.discard(name)
    del schema.dimensions[dims:]
    while len(schema.measures) > measures:
        schema.measures.popitem()
    while len(schema.attributes) > attributes:
        schema.attributes.popitem()


def _requires_key(partition) -> bool:
    return partition.type == "DIMENSION" and partition.enforcement != "OPTIONAL"


def missing_key_reason(partition) -> str:
    return f"The record is missing the dimension '{partition.name}', which the table's partition key requires."


_RECORD_TYPES = frozenset(VALUE_TYPES + ("MULTI",))
_RECORD_FIELDS = frozenset({
    "Dimensions", "MeasureName", "MeasureValue", "MeasureValueType", "MeasureValues", "Time", "TimeUnit", "Version",
})


def _check_shape(record, i) -> dict:
    """`i`: the record's position, or the name of what is checked (named only in errors:
    this runs for every record)."""
    if not isinstance(record, dict):
        raise ValidationError(f"1 validation error detected: Value at '{_where(i)}' must be a record dict.")
    if not _RECORD_FIELDS.issuperset(record):
        unknown = set(record) - _RECORD_FIELDS
        raise ValidationError(f"Unknown record field(s) {sorted(unknown)} at '{_where(i)}'.")
    unit = record.get("TimeUnit")
    if unit is not None and unit not in TIME_UNITS:
        raise ValidationError(
            f"1 validation error detected: Value '{unit}' at '{_where(i)}.timeUnit' failed to satisfy "
            "constraint: Member must satisfy enum value set: [MILLISECONDS, SECONDS, MICROSECONDS, NANOSECONDS]"
        )
    mtype = record.get("MeasureValueType")
    if mtype is not None and mtype not in _RECORD_TYPES:
        raise ValidationError(
            f"1 validation error detected: Value '{mtype}' at '{_where(i)}.measureValueType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [DOUBLE, BIGINT, VARCHAR, BOOLEAN, TIMESTAMP, MULTI]"
        )
    return record


def _where(i) -> str:
    return f"records.{i + 1}.member" if isinstance(i, int) else i


def _parse_version(version, i: int) -> int:
    if version is None:
        return 1
    if isinstance(version, bool) or not isinstance(version, (int, str)):
        raise ValidationError(f"Version of record {i} must be an integer.")
    try:
        v = int(version)
    except ValueError:
        raise ValidationError(f"Version of record {i} must be an integer.") from None
    if v < 1 or v > 2**63 - 1:
        raise ValidationError(
            f"1 validation error detected: Value '{v}' at 'records.{i + 1}.member.version' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1"
        )
    return v


# dimension names that passed the checks, with their UTF-8 length: names repeat in
# every record, so each is checked once per process (bounded, see _name_bytes)
_GOOD_DIMENSION_NAMES: dict = {}


def _name_bytes(name) -> int:
    size = _GOOD_DIMENSION_NAMES.get(name) if type(name) is str else None
    if size is None:
        if not isinstance(name, str) or not name:
            raise Rejected("A dimension name must be a non-empty string.")
        check_column_name(name, "dimension")
        size = _utf8_len(name)
        if size > MAX_NAME_BYTES_DIMENSION:
            raise Rejected(f"The dimension name '{name[:40]}...' exceeds {MAX_NAME_BYTES_DIMENSION} bytes.")
        if len(_GOOD_DIMENSION_NAMES) < 100_000:
            _GOOD_DIMENSION_NAMES[name] = size
    return size


# A table remembers dimension lists it has accepted: ((name, value), ...) as given ->
# the same pairs sorted by name, and their names. A device writes the same dimensions in every record, so
# most records skip the per-dimension checks. Bounded: cleared when full.
CHECKED_DIMENSIONS_MAX = 200_000


_NAME_VALUE = operator.itemgetter("Name", "Value")


def _given_pairs(dimensions):
    """((name, value), ...) of plain Name/Value dimension dicts; None for anything else
    (a DimensionValueType, a malformed entry), which the full checks then decide."""
    try:
        if sum(map(len, dimensions)) != 2 * len(dimensions):
            return None
        return tuple(map(_NAME_VALUE, dimensions))
    except (TypeError, KeyError):
        return None


def _cached_dimensions(checked: dict, dimensions):
    pairs = _given_pairs(dimensions)
    if pairs is None:
        return None
    try:
        return checked.get(pairs)
    except TypeError:  # an unhashable value: the full checks reject it
        return None


def _remember_dimensions(checked: dict, dimensions, dims: list) -> None:
    pairs = _given_pairs(dimensions)
    if pairs is None:
        return
    if len(checked) >= CHECKED_DIMENSIONS_MAX:
        checked.clear()
    checked[pairs] = (tuple(sorted(dims)), frozenset(n for n, _ in dims))


def _parse_dimensions(dimensions, schema: TableSchema, known: set, where: str) -> list[tuple[str, str]]:
    """A record's dimensions as (name, value) pairs; `known` is the table's dimension
    names (a set, kept in step with schema.dimensions)."""
    if len(dimensions) > MAX_DIMENSIONS:
        raise Rejected(f"The record has {len(dimensions)} dimensions; at most {MAX_DIMENSIONS} are allowed.")
    dims = []
    size = 0
    for j, d in enumerate(dimensions):
        try:
            name, value = d["Name"], d["Value"]
        except (TypeError, KeyError):
            raise ValidationError(
                f"1 validation error detected: Value at '{where}.dimensions.{j + 1}.member' must have Name and Value."
            ) from None
        if len(d) > 2:
            dvt = d.get("DimensionValueType", "VARCHAR")
            if dvt != "VARCHAR":
                raise ValidationError(
                    f"1 validation error detected: Value '{dvt}' at '{where}.dimensions.{j + 1}.member."
                    "dimensionValueType' failed to satisfy constraint: Member must satisfy enum value set: [VARCHAR]"
                )
        size += _name_bytes(name)
        if type(value) is not str:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise Rejected(f"The value of dimension '{name}' must be a string.")
            value = str(value)
        if not value:
            raise Rejected(f"The value of dimension '{name}' is empty.")
        size += len(value) if value.isascii() else len(value.encode("utf-8"))
        if name not in known:
            if name in schema.attributes:
                raise Rejected(f"'{name}' is a measure of this table and cannot also be a dimension.")
            if len(schema.dimensions) >= MAX_DIMENSIONS:
                raise Rejected(f"The table already has the maximum of {MAX_DIMENSIONS} dimensions.")
            schema.dimensions.append(name)
            known.add(name)
        dims.append((name, value))
    if len(dims) > 1 and len({n for n, _ in dims}) != len(dims):
        seen = set()
        for n, _ in dims:
            if n in seen:
                raise Rejected(f"The record has the dimension '{n}' more than once.")
            seen.add(n)
    if size > MAX_SERIES_BYTES:
        raise Rejected(f"The dimensions of the record take {size} bytes; at most {MAX_SERIES_BYTES} are allowed.")
    return dims


def _parse_time(value, unit) -> int:
    if value is None:
        raise Rejected("The record has no Time.")
    unit = unit or "MILLISECONDS"
    if isinstance(value, bool):
        raise Rejected(f"Time '{value}' is not an integer.")
    if isinstance(value, str):
        if not 1 <= len(value) <= 256 or not value.lstrip("-").isdigit():
            raise Rejected(f"Time '{value[:40]}' is not an integer number of {unit.lower()}.")
        value = int(value)
    elif isinstance(value, (int, np.integer)):
        value = int(value)
    elif isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "timestamp"):
        return int(pd.Timestamp(value).tz_localize(None).value) if pd.Timestamp(value).tzinfo else int(
            pd.Timestamp(value).value
        )
    else:
        raise Rejected(f"Time '{value}' is not an integer.")
    ns = value * TIME_UNITS[unit]
    if not 0 <= ns <= MAX_TIME_NS:
        raise Rejected(f"Time {value} {unit.lower()} is outside 1970-01-01 .. 2262-04-11.")
    return ns


def _parse_scalar(text, mtype: str, what: str):
    """A measure value from its string form (Python values are accepted too)."""
    if text is None:
        raise Rejected(f"{what} has no value.")
    if not isinstance(text, str):
        if isinstance(text, (bool, np.bool_)) and mtype == "BOOLEAN":
            return bool(text)
        if isinstance(text, (int, float, np.number)) and not isinstance(text, bool):
            text = repr(int(text)) if mtype in ("BIGINT", "TIMESTAMP") and float(text).is_integer() else str(text)
        else:
            raise Rejected(f"{what} must be a string.")
    if not 1 <= len(text) <= MAX_VALUE_BYTES:
        raise Rejected(f"{what} must be 1 to {MAX_VALUE_BYTES} characters long.")
    try:
        if mtype == "DOUBLE":
            v = float(text)
            if not math.isfinite(v):
                raise ValueError
            return v
        if mtype == "BIGINT":
            v = int(text)
            if not -(2**63) <= v < 2**63:
                raise ValueError
            return v
        if mtype == "BOOLEAN":
            low = text.lower()
            if low not in ("true", "false"):
                raise ValueError
            return low == "true"
        if mtype == "TIMESTAMP":  # milliseconds since the epoch [unv]
            v = int(text) * 10**6
            if not 0 <= v <= MAX_TIME_NS:
                raise ValueError
            return v
        if _utf8_len(text) > MAX_VALUE_BYTES:
            raise ValueError
        return text
    except ValueError:
        raise Rejected(f"{what} '{text[:40]}' is not a valid {mtype} value.") from None


def _fix_measure_type(schema: TableSchema, measure_name: str, mtype: str) -> None:
    existing = schema.measures.get(measure_name)
    if existing is None:
        if len(schema.measures) >= MAX_MEASURES_PER_TABLE:
            raise Rejected(f"The table already has the maximum of {MAX_MEASURES_PER_TABLE} measure names.")
        if measure_name in schema.dimensions:
            raise Rejected(f"'{measure_name}' is a dimension of this table and cannot also be a measure name.")
        schema.measures[measure_name] = mtype
    elif existing != mtype:
        raise Rejected(
            f"The measure '{measure_name}' has data type {existing} in this table; "
            f"a record of type {mtype} cannot be written to it."
        )


_LONG_COLUMNS = {t: f"measure_value::{t.lower()}" for t in VALUE_TYPES}


def _parse_values(record: dict, measure_name: str, schema: TableSchema, dims) -> dict:
    mtype = record.get("MeasureValueType") or ("MULTI" if record.get("MeasureValues") else "DOUBLE")
    if mtype != "MULTI":
        if record.get("MeasureValues"):
            raise Rejected("MeasureValues may only be given with MeasureValueType MULTI.")
        if mtype == "TIMESTAMP":
            raise Rejected("TIMESTAMP values are only allowed in multi-measure records.")
        value = _parse_scalar(record.get("MeasureValue"), mtype, "MeasureValue")
        _fix_measure_type(schema, measure_name, mtype)
        return {_LONG_COLUMNS[mtype]: (value, mtype)}
    if record.get("MeasureValue") is not None:
        raise Rejected("MeasureValue may not be given with MeasureValueType MULTI; use MeasureValues.")
    measures = record.get("MeasureValues")
    if not isinstance(measures, (list, tuple)) or not measures:
        raise Rejected("A MULTI record needs at least one entry in MeasureValues.")
    if len(measures) > MAX_MEASURES_PER_RECORD:
        raise Rejected(f"A MULTI record may carry at most {MAX_MEASURES_PER_RECORD} measures.")
    _fix_measure_type(schema, measure_name, "MULTI")
    out = {}
    size = 0
    dim_names = {n for n, _ in dims}
    for m in measures:
        if not isinstance(m, dict):
            raise Rejected("Each MeasureValues entry must be a dict with Name, Value and Type.")
        name, vtype = m.get("Name"), m.get("Type")
        if not isinstance(name, str) or not name:
            raise Rejected("A measure in MeasureValues has no Name.")
        if vtype not in VALUE_TYPES:
            raise Rejected(f"The measure '{name}' has an invalid Type {vtype!r}.")
        if name in out:
            raise Rejected(f"The record has the measure '{name}' more than once.")
        check_column_name(name, "measure")
        if name in dim_names or name in schema.dimensions:
            raise Rejected(f"'{name}' is a dimension of this table and cannot also be a measure.")
        value = _parse_scalar(m.get("Value"), vtype, f"The value of measure '{name}'")
        size += len(str(m.get("Value")))
        existing = schema.attributes.get(name)
        if existing is None:
            if len(schema.attributes) >= MAX_ATTRIBUTES_PER_TABLE:
                raise Rejected(f"The table already has the maximum of {MAX_ATTRIBUTES_PER_TABLE} multi-measure attributes.")
            schema.attributes[name] = vtype
        elif existing != vtype:
            raise Rejected(
                f"The measure '{name}' has data type {existing} in this table; "
                f"a value of type {vtype} cannot be written to it."
            )
        out[name] = (value, vtype)
    if size > MAX_VALUE_BYTES:
        raise Rejected(f"The measure values of the record take {size} bytes; at most {MAX_VALUE_BYTES} are allowed.")
    return out


_NUMPY_TYPES = {"DOUBLE": np.float64, "BIGINT": np.int64, "BOOLEAN": np.bool_, "TIMESTAMP": np.int64, "VARCHAR": object}
_FILL = {"DOUBLE": 0.0, "BIGINT": 0, "BOOLEAN": False, "TIMESTAMP": 0, "VARCHAR": None}


def empty_column(mtype: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A column of n nulls for a measure type."""
    return np.full(n, _FILL[mtype], dtype=_NUMPY_TYPES[mtype]), np.ones(n, dtype=bool)


def numpy_type(mtype: str):
    return _NUMPY_TYPES[mtype]


def _columnize(row_values: list[dict], schema: TableSchema) -> dict:
    """Per-record {column: (value, type)} dicts -> {column: (values, nulls or None)}."""
    n = len(row_values)
    columns = {}
    seen = {}
    for values in row_values:
        for col, (_, mtype) in values.items():
            seen[col] = mtype
    for col, mtype in seen.items():
        data = [v[col][0] if col in v else _FILL[mtype] for v in row_values]
        nulls = np.fromiter((col not in v for v in row_values), dtype=bool, count=n)
        arr = np.array(data, dtype=_NUMPY_TYPES[mtype]) if mtype != "VARCHAR" else _object_array(data)
        columns[col] = (arr, nulls if nulls.any() else None)
    return columns


def _object_array(values: list) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


# --- write_frame --------------------------------------------------------------------

_LONG_VALUE_PREFIX = "measure_value::"


def validate_frame(table: TableInfo, frame: pd.DataFrame, now_ns: int, measure_name: str | None = None) -> Rows:
    """A pandas frame -> Rows, vectorized.

    Long form: columns `time`, `measure_name`, one or more `measure_value::<type>`, the
    rest dimensions. Wide form (no `measure_value::` column): each row is a multi-measure
    record named by the `measure_name` column or argument; string columns are dimensions,
    the other columns its measures.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError("write_frame takes a pandas DataFrame.")
    if "time" not in frame.columns:
        raise ValidationError("The frame has no 'time' column.")
    if len(set(frame.columns)) != len(frame.columns):
        raise ValidationError("The frame has duplicate column names.")
    n = len(frame)
    schema = table.schema.copy()
    reject = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}

    def reject_rows(mask: np.ndarray, reason: str) -> None:
        for i in np.flatnonzero(mask & ~reject)[:100000]:
            reasons[int(i)] = reason
        reject[:] |= mask

    times = _frame_times(frame["time"])
    start, end, window_name = writable_window(table, now_ns)
    bad_time = (times < start) | (times >= end)
    reject_rows(bad_time, outside_window_reason(start, end, window_name))

    value_cols = [c for c in frame.columns if isinstance(c, str) and c.startswith(_LONG_VALUE_PREFIX)]
    long_form = bool(value_cols)
    if long_form:
        if "measure_name" not in frame.columns:
            raise ValidationError("A frame with measure_value:: columns needs a 'measure_name' column.")
        names = frame["measure_name"]
        dim_cols = [c for c in frame.columns if c not in ("time", "measure_name") and c not in value_cols]
    else:
        if "measure_name" in frame.columns:
            names = frame["measure_name"]
        elif measure_name is not None:
            names = pd.Series(np.full(n, measure_name, dtype=object))
        else:
            raise ValidationError(
                "A wide frame (multi-measure records) needs a 'measure_name' column or the measure_name argument."
            )
        others = [c for c in frame.columns if c not in ("time", "measure_name")]
        # columns the table knows keep their role; new text columns are dimensions
        dim_cols = [c for c in others if c in schema.dimensions
                    or (c not in schema.attributes and _is_string_column(frame[c]))]
        value_cols = [c for c in others if c not in dim_cols]
        if not value_cols:
            raise ValidationError("The frame has no measure columns.")
    for c in dim_cols + ([] if long_form else value_cols):
        if not isinstance(c, str):
            raise ValidationError(f"Column name {c!r} is not a string.")
        try:
            check_column_name(c, "dimension" if c in dim_cols else "measure")
        except Rejected as e:
            raise ValidationError(str(e)) from None
        if _utf8_len(c) > MAX_NAME_BYTES_DIMENSION and c in dim_cols:
            raise ValidationError(f"The dimension name '{c}' exceeds {MAX_NAME_BYTES_DIMENSION} bytes.")

    # measure names as codes into their distinct values: categorical frames cost nothing here
    name_codes, name_uniques = _codes(names)
    for code, mname in enumerate(name_uniques):
        if not isinstance(mname, str) or not mname:
            reject_rows(name_codes == code, "The record has no MeasureName.")
    reject_rows(name_codes < 0, "The record has no MeasureName.")

    def names_used(mask: np.ndarray):
        """(code, measure name) of the measure names on rows of mask."""
        counts = np.bincount(name_codes[mask & (name_codes >= 0)], minlength=len(name_uniques))
        return [(int(c), name_uniques[c]) for c in np.flatnonzero(counts)]

    # values
    columns = {}
    if long_form:
        types = {}
        for c in value_cols:
            mtype = c[len(_LONG_VALUE_PREFIX):].upper()
            if mtype not in VALUE_TYPES or mtype == "TIMESTAMP":
                raise ValidationError(f"Invalid value column {c!r}.")
            types[c] = mtype
        present = {c: ~pd.isna(frame[c]).to_numpy() for c in value_cols}
        count = sum(p.astype(np.int8) for p in present.values())
        reject_rows(count == 0, "The record has no measure value.")
        reject_rows(count > 1, "The record has values in more than one measure_value column.")
        # a measure name keeps one type: check per distinct (name, type) pair
        for c in value_cols:
            mtype = types[c]
            used = present[c] & ~reject
            for code, mname in names_used(used):
                try:
                    _fix_measure_type(schema, mname, mtype)
                except Rejected as e:
                    reject_rows(used & (name_codes == code), str(e))
            columns[c] = _frame_values(frame[c], mtype, present[c])
            reject_rows(columns[c][2], f"MeasureValue is not a valid {mtype} value.")
            columns[c] = columns[c][:2]
    else:
        present_any = np.zeros(n, dtype=bool)
        for c in value_cols:
            mtype = _frame_type(frame[c])
            existing = schema.attributes.get(c)
            if c in schema.dimensions:
                raise ValidationError(f"'{c}' is a dimension of this table and cannot also be a measure.")
            if existing is not None and existing != mtype:
                raise ValidationError(
                    f"The measure '{c}' has data type {existing} in this table; the frame's column is {mtype}."
                )
            schema.attributes[c] = mtype
            present = ~pd.isna(frame[c]).to_numpy()
            present_any |= present
            vals, nulls, bad = _frame_values(frame[c], mtype, present)
            reject_rows(bad, f"The value of measure '{c}' is not a valid {mtype} value.")
            columns[c] = (vals, nulls)
        reject_rows(~present_any, "The record has no measure value.")
        for code, mname in names_used(~reject):
            try:
                _fix_measure_type(schema, mname, "MULTI")
            except Rejected as e:
                reject_rows(name_codes == code, str(e))

    # dimensions -> series keys, one Python step per distinct combination
    dim_codes, dim_uniques = [], []
    for c in dim_cols:
        col = frame[c]
        if not _is_string_column(col) and not col.isna().all():
            col = col.astype(object).where(col.notna(), None).map(lambda v: v if v is None else str(v))
        codes, uniques = _codes(col)
        bad = [u for u in uniques if not isinstance(u, str) or not u]
        if bad:
            for u in bad:
                reject_rows(col.to_numpy(dtype=object) == u, f"The value of dimension '{c}' is empty.")
        dim_codes.append(np.asarray(codes))
        dim_uniques.append(uniques)
        if c not in schema.dimensions:
            if c in schema.attributes:
                raise ValidationError(f"'{c}' is a measure of this table and cannot also be a dimension.")
            schema.dimensions.append(c)
    partition = table.partition_key
    if _requires_key(partition):
        if partition.name in dim_cols:
            reject_rows(dim_codes[dim_cols.index(partition.name)] < 0, missing_key_reason(partition))
        else:
            reject_rows(np.ones(n, dtype=bool), missing_key_reason(partition))
    if reject.any():
        keep = np.flatnonzero(~reject)
        parts = [name_codes[keep]] + [c[keep] for c in dim_codes]
    else:  # the common case: no gathers
        keep = np.arange(n, dtype=np.int64)
        parts = [name_codes] + dim_codes
    inverse, first = factorize_rows(parts)
    unique_keys = []
    for row in first:
        dims = tuple(
            sorted((dim_cols[j], dim_uniques[j][c[row]]) for j, c in enumerate(parts[1:]) if c[row] >= 0)
        )
        unique_keys.append((name_uniques[parts[0][row]], dims))
    rejected = [{"RecordIndex": i, "Reason": reasons[i]} for i in sorted(reasons)]
    out_columns = {}
    whole = len(keep) == n
    for c, (vals, nulls) in columns.items():
        if not whole:
            vals, nulls = vals[keep], nulls[keep]
        out_columns[c] = (vals, nulls if nulls.any() else None)
    return Rows(
        keep, inverse, unique_keys, times if whole else times[keep],
        np.ones(len(keep), dtype=np.int64), out_columns, schema, rejected,
    )


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, -1 for missing; the distinct values) of a column. A categorical
    column already is that (its unused categories are harmless); others are hashed."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return np.asarray(col.cat.codes), np.asarray(col.cat.categories, dtype=object)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return np.asarray(codes), np.asarray(uniques, dtype=object)


def _is_string_column(col: pd.Series) -> bool:
    return (
        pd.api.types.is_string_dtype(col.dtype)
        or isinstance(col.dtype, pd.CategoricalDtype)
        or (col.dtype == object and col.dropna().map(type).eq(str).all())
    )


def _frame_times(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        if getattr(col.dt, "tz", None) is not None:
            col = col.dt.tz_convert("UTC").dt.tz_localize(None)
        if col.isna().any():
            raise ValidationError("The frame's time column has missing values.")
        return col.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.to_numpy(dtype=np.int64)  # nanoseconds since the epoch
    try:
        return pd.to_datetime(col, utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    except (ValueError, TypeError):
        raise ValidationError("The frame's time column must hold timestamps or integer nanoseconds.") from None


def _frame_type(col: pd.Series) -> str:
    dt = col.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dt):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dt):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "TIMESTAMP"
    return "VARCHAR"


def _frame_values(col: pd.Series, mtype: str, present: np.ndarray):
    """(values, nulls, bad) of a frame column read as measure type mtype."""
    n = len(col)
    nulls = ~present
    bad = np.zeros(n, dtype=bool)
    if mtype == "DOUBLE":
        vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = present & ~np.isfinite(vals)
        vals = np.where(np.isfinite(vals), vals, 0.0)
    elif mtype == "BIGINT":
        num = pd.to_numeric(col, errors="coerce")
        f = num.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = present & (np.isnan(f) | (f != np.floor(f)))
        if pd.api.types.is_integer_dtype(num.dtype):
            vals = num.to_numpy(dtype=np.int64, na_value=0)
        else:
            vals = np.where(bad | nulls, 0, f).astype(np.int64)
    elif mtype == "BOOLEAN":
        if pd.api.types.is_bool_dtype(col.dtype):
            vals = col.to_numpy(dtype=bool, na_value=False)
        else:
            low = col.astype(object).map(lambda v: str(v).lower() if v is not None else None)
            vals = (low == "true").to_numpy()
            bad = present & ~low.isin(["true", "false"]).to_numpy()
    elif mtype == "TIMESTAMP":
        vals = col.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        vals = np.where(nulls, 0, vals)
    else:
        vals = col.astype(object).to_numpy()
        vals = np.where(nulls, None, vals)
        vals = np.array([v if v is None or isinstance(v, str) else str(v) for v in vals], dtype=object) if n else vals
        bad = present & (pd.Series(vals).str.len().fillna(1).to_numpy() == 0)
    return vals, (nulls if nulls.any() else np.zeros(n, dtype=bool)), bad
