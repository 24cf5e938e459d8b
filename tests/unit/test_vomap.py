"""The deprecated VO mapping file."""

from __future__ import annotations

import logging
import pathlib

import pytest

from caso import exceptions
from caso.identity import vomap


def _mapping(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    path = tmp_path / "voms.json"
    path.write_text(text)
    return path


def test_projects_map_to_their_vo(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _mapping(
        tmp_path,
        '{"vo.a.eu": {"projects": ["p1", "project-two"]},'
        ' "vo.b.eu": {"projects": ["p3"]}}',
    )

    with caplog.at_level(logging.WARNING):
        mapping = vomap.load(path)

    assert mapping == {
        "p1": "vo.a.eu",
        "project-two": "vo.a.eu",
        "p3": "vo.b.eu",
    }
    assert caplog.records == []


def test_vo_without_projects_maps_nothing_silently(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _mapping(
        tmp_path, '{"vo.a.eu": {}, "vo.b.eu": {"projects": ["p3"]}}'
    )

    with caplog.at_level(logging.WARNING):
        mapping = vomap.load(path)

    assert mapping == {"p3": "vo.b.eu"}
    assert caplog.records == []


@pytest.mark.parametrize(
    ("text", "expected", "warnings"),
    [
        pytest.param(
            '{"vo.a.eu": {"tenants": ["p1", "p2"]}}',
            {"p1": "vo.a.eu", "p2": "vo.a.eu"},
            ["uses the old key 'tenants' (VO vo.a.eu)"],
            id="tenants-list",
        ),
        pytest.param(
            '{"vo.a.eu": {"tenant": "p1"}, "vo.b.eu": {"tenant": "p2"}}',
            {"p1": "vo.a.eu", "p2": "vo.b.eu"},
            ["uses the old key 'tenant' (VO vo.a.eu, vo.b.eu)"],
            id="tenant-string-one-warning",
        ),
        pytest.param(
            '{"vo.a.eu": {"tenants": ["p1"]}, "vo.b.eu": {"tenant": "p2"},'
            ' "vo.c.eu": {"projects": ["p3"]}}',
            {"p1": "vo.a.eu", "p2": "vo.b.eu", "p3": "vo.c.eu"},
            [
                "uses the old key 'tenants' (VO vo.a.eu)",
                "uses the old key 'tenant' (VO vo.b.eu)",
            ],
            id="both-old-keys",
        ),
    ],
)
def test_old_keys_are_read_with_one_warning_each(
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
    text: str,
    expected: dict[str, str],
    warnings: list[str],
) -> None:
    path = _mapping(tmp_path, text)

    with caplog.at_level(logging.WARNING):
        mapping = vomap.load(path)

    assert mapping == expected
    assert [r.getMessage() for r in caplog.records] == [
        f"VO mapping file {path} {warning}; rename it to 'projects', a list"
        for warning in warnings
    ]


def test_project_in_two_vos_keeps_the_first_with_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _mapping(
        tmp_path,
        '{"vo.a.eu": {"projects": ["p1"]}, "vo.b.eu": {"projects": ["p1"]}}',
    )

    with caplog.at_level(logging.WARNING):
        mapping = vomap.load(path)

    assert mapping == {"p1": "vo.a.eu"}
    assert [r.getMessage() for r in caplog.records] == [
        f"VO mapping file {path} maps project 'p1' to VO 'vo.a.eu' and to "
        f"VO 'vo.b.eu'; using 'vo.a.eu'"
    ]


def test_missing_default_file_is_an_empty_mapping() -> None:
    if vomap.DEFAULT_PATH.exists():
        pytest.skip(f"{vomap.DEFAULT_PATH} exists on this host")

    assert vomap.load(vomap.DEFAULT_PATH) == {}


_SHAPE = '{"<VO>": {"projects": ["<project id or name>", ...]}}'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            '{"vo.a.eu": {"projects": ["p1"]},}',
            "is not JSON: line 1 column 34: Expecting property name "
            f"enclosed in double quotes; it must look like {_SHAPE}",
            id="not-json",
        ),
        pytest.param(
            '["vo.a.eu"]',
            f"must hold a JSON object like {_SHAPE}",
            id="list-at-top",
        ),
        pytest.param(
            '{"vo.a.eu": ["p1"]}',
            "has VO 'vo.a.eu' not mapped to an object",
            id="vo-not-object",
        ),
        pytest.param(
            '{"vo.a.eu": {"projects": "p1"}}',
            "has VO 'vo.a.eu' whose 'projects' is not a list of strings",
            id="projects-not-list",
        ),
        pytest.param(
            '{"vo.a.eu": {"tenant": ["p1"]}}',
            "has VO 'vo.a.eu' whose 'tenant' is not a string",
            id="tenant-not-string",
        ),
    ],
)
def test_bad_file_is_a_config_error_naming_it(
    tmp_path: pathlib.Path, text: str, problem: str
) -> None:
    path = _mapping(tmp_path, text)

    with pytest.raises(exceptions.ConfigError) as caught:
        vomap.load(path)

    assert str(caught.value) == (
        f"VO mapping file {path} (option 'mapping_file' in [DEFAULT]) "
        f"{problem}"
    )


def test_missing_file_set_on_purpose_is_a_config_error(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "nope.json"

    with pytest.raises(exceptions.ConfigError) as caught:
        vomap.load(path)

    assert str(caught.value) == (
        f"VO mapping file {path} (option 'mapping_file' in [DEFAULT]) does "
        f"not exist; fix option 'mapping_file' or remove it"
    )
