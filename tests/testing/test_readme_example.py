"""The README shows the example test module as it is in examples/ (which pytest runs)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_carries_the_example_module_verbatim():
    module = (ROOT / "examples" / "test_sensor_app.py").read_text()
    readme = (ROOT / "README.md").read_text()
    assert f"```python\n{module}```" in readme
