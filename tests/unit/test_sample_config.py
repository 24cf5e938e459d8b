"""The committed sample configuration matches the option definitions."""

from __future__ import annotations

import pathlib

from oslo_config import generator

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "etc" / "caso" / "caso.conf.sample"
GENERATOR_CONF = ROOT / "etc" / "caso" / "caso-config-generator.conf"


def test_sample_config_is_current(tmp_path: pathlib.Path) -> None:
    fresh = tmp_path / "caso.conf.sample"

    generator.main(
        ["--config-file", str(GENERATOR_CONF), "--output-file", str(fresh)]
    )

    assert fresh.read_text() == SAMPLE.read_text(), (
        f"{SAMPLE.relative_to(ROOT)} is stale: run `make sample` and commit "
        f"the result"
    )
