"""Sample data, generated (never shipped as files): TSBS-style devops metrics.

`devops_frame(hosts, hours, end_ns)` builds the TSBS "cpu" data set as single-measure
records in long form: per host ten tags (hostname, region, datacenter, rack, os, arch,
team, service, service_version, service_environment) and ten cpu fields (usage_user,
..., usage_guest_nice) as bounded random walks, one point every 10 seconds.
100 hosts x 12 hours = 4.32 M rows. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CPU_FIELDS = [
    "usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
    "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
]
TAGS = [
    "hostname", "region", "datacenter", "rack", "os", "arch", "team", "service",
    "service_version", "service_environment",
]
REGIONS = [
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
]
INTERVAL_NS = 10 * 10**9


def host_tags(hosts: int, seed: int = 1) -> pd.DataFrame:
    """One row per host with its ten tags, as TSBS assigns them."""
    rng = np.random.default_rng(seed)
    region = rng.integers(0, len(REGIONS), hosts)
    return pd.DataFrame({
        "hostname": [f"host_{i}" for i in range(hosts)],
        "region": [REGIONS[r] for r in region],
        "datacenter": [f"{REGIONS[r]}{'abcdef'[d]}" for r, d in zip(region, rng.integers(0, 3, hosts))],
        "rack": [str(x) for x in rng.integers(0, 100, hosts)],
        "os": [["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"][x] for x in rng.integers(0, 3, hosts)],
        "arch": [["x64", "x86"][x] for x in rng.integers(0, 2, hosts)],
        "team": [["SF", "NYC", "LON", "CHI"][x] for x in rng.integers(0, 4, hosts)],
        "service": [str(x) for x in rng.integers(0, 20, hosts)],
        "service_version": [str(x) for x in rng.integers(0, 2, hosts)],
        "service_environment": [["production", "staging", "test"][x] for x in rng.integers(0, 3, hosts)],
    })


def bounded_walk(rng, shape, low=0.0, high=100.0, step=1.0) -> np.ndarray:
    """Random walks along the last axis, reflected into [low, high]."""
    start = rng.uniform(low, high, shape[:-1] + (1,))
    steps = rng.normal(0.0, step, shape)
    steps[..., 0] = 0.0
    walk = start + np.cumsum(steps, axis=-1) - low
    span = high - low
    folded = np.mod(walk, 2 * span)
    return low + np.where(folded > span, 2 * span - folded, folded)


def devops_frame(hosts: int, hours: float, end_ns: int, seed: int = 1) -> pd.DataFrame:
    """The TSBS cpu data set, long form, times ending just before `end_ns`.

    Columns: the ten tags (categorical), measure_name (categorical), time
    (datetime64[ns]), measure_value::double. Rows are ordered by time, then host, then field.
    """
    rng = np.random.default_rng(seed)
    points = int(hours * 3600 * 10**9 // INTERVAL_NS)
    start = (end_ns - points * INTERVAL_NS) // INTERVAL_NS * INTERVAL_NS
    times = start + np.arange(points, dtype=np.int64) * INTERVAL_NS
    values = bounded_walk(rng, (hosts, len(CPU_FIELDS), points))  # host, field, time
    values = np.round(values, 3)
    n_fields = len(CPU_FIELDS)
    # row order: time-major, then host, then field
    t_idx = np.repeat(np.arange(points), hosts * n_fields)
    h_idx = np.tile(np.repeat(np.arange(hosts), n_fields), points)
    f_idx = np.tile(np.arange(n_fields), hosts * points)
    tags = host_tags(hosts, seed)
    frame = {}
    for tag in TAGS:
        cat = pd.Categorical(tags[tag])
        frame[tag] = pd.Categorical.from_codes(cat.codes[h_idx], categories=cat.categories)
    frame["measure_name"] = pd.Categorical.from_codes(f_idx, categories=CPU_FIELDS)
    frame["time"] = times[t_idx].astype("datetime64[ns]")
    frame["measure_value::double"] = values[h_idx, f_idx, t_idx]
    return pd.DataFrame(frame)


def devops_start(hours: float, end_ns: int) -> int:
    """The first timestamp `devops_frame(..., hours, end_ns)` generates."""
    points = int(hours * 3600 * 10**9 // INTERVAL_NS)
    return (end_ns - points * INTERVAL_NS) // INTERVAL_NS * INTERVAL_NS
