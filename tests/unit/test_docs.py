"""docs/configuration.md documents every option caso registers."""

from __future__ import annotations

import pathlib
import re

import pytest
from oslo_config import cfg
from oslo_log import log

from caso import opts

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "configuration.md"

#: caso's own groups; [keystone_auth] and oslo.log's options are
#: documented by their projects.
GROUPS = ("DEFAULT", "benchmark", "accelerator", "ssm")


def _registered() -> list[tuple[str, str]]:
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    logging_only = cfg.ConfigOpts()
    log.register_options(logging_only)
    foreign = set(logging_only)

    found = []
    for group in GROUPS:
        section = conf if group == "DEFAULT" else conf[group]
        for name in section:
            if group == "DEFAULT" and (
                name in foreign
                or isinstance(conf[name], cfg.ConfigOpts.GroupAttr)
            ):
                continue
            found.append((group, name))

    return found


def _sections() -> dict[str, str]:
    parts = re.split(r"^## ", PAGE.read_text(), flags=re.MULTILINE)
    sections = {}
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        found = re.fullmatch(r"\[(\w+)\]", heading.strip())
        if found:
            sections[found.group(1)] = body

    return sections


@pytest.mark.parametrize(("group", "name"), _registered())
def test_option_is_documented_in_its_group(group: str, name: str) -> None:
    section = _sections().get(group, "")
    spellings = {f"`{name}`", f"`{name.replace('_', '-')}`"}

    assert any(spelling in section for spelling in spellings), (
        f"option {name!r} of [{group}] is missing from the [{group}] "
        f"section of {PAGE.relative_to(ROOT)}"
    )


def test_every_caso_group_has_a_section() -> None:
    assert set(GROUPS) <= set(_sections())
