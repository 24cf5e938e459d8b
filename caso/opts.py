"""The options caso reads: cASO's names, groups, defaults and flags.

:mod:`caso.config` reads and checks them; this module only defines them,
for the command line, the files and the sample (``oslo.config.opts``
entry point, namespace ``caso``).
"""

from __future__ import annotations

import os

from keystoneauth1 import loading
from oslo_config import cfg
from oslo_log import log

from caso.identity import vomap
from caso.messengers import ssm

KEYSTONE_GROUP = "keystone_auth"
BENCHMARK_GROUP = "benchmark"
ACCELERATOR_GROUP = "accelerator"
SSM_GROUP = "ssm"


def _cli_opts() -> list[cfg.Opt]:
    return [
        cfg.StrOpt(
            "extract-from",
            help="Start of the window for every project, overriding the "
            "saved watermarks. ISO 8601; without a zone it is UTC. "
            "'None' means the beginning of time.",
        ),
        cfg.StrOpt(
            "extract-to",
            help="End of the window. ISO 8601; without a zone it is UTC. "
            "Unset means now; a future value is clamped to now.",
        ),
        cfg.ListOpt(
            "projects",
            default=[],
            deprecated_name="tenants",
            help="Ids or names of the projects to report, merged with "
            "the projects that carry the Keystone tag caso_tag.",
        ),
        cfg.StrOpt(
            "caso_tag",
            default="caso",
            help="Keystone tag that selects a project for accounting.",
        ),
        cfg.StrOpt(
            "vo_property",
            default="VO",
            help="Keystone project property that holds the project's VO.",
        ),
        cfg.StrOpt(
            "mapping_file",
            default=str(vomap.DEFAULT_PATH),
            deprecated_for_removal=True,
            deprecated_reason="set the VO in the Keystone project "
            "property named by vo_property instead "
            "",
            help="Deprecated. JSON file mapping VOs to project ids or "
            'names, {"<VO>": {"projects": [...]}}, used for a project '
            "whose vo_property is not set.",
        ),
        cfg.ListOpt(
            "extractor",
            default=["nova", "cinder", "neutron"],
            help="Extractors to run: nova, cinder, neutron, prometheus, "
            "ceilometer. Ones this version does not have yet are skipped "
            "with a warning.",
        ),
        cfg.BoolOpt(
            "dry-run",
            default=False,
            help="Extract and print what would be sent; publish nothing "
            "and save no state.",
        ),
    ]


def _default_opts() -> list[cfg.Opt]:
    return [
        cfg.ListOpt(
            "messengers",
            default=["noop"],
            deprecated_name="messaging",
            help="Where to send records: ssm, noop (and, in later "
            "versions, logstash, greendigit_cim). ssmv4 is an old name "
            "of ssm.",
        ),
        cfg.StrOpt(
            "spooldir",
            default="/var/spool/caso",
            help="Directory of the state files (watermarks).",
        ),
        cfg.StrOpt(
            "lock_path",
            default=os.environ.get("CASO_LOCK_PATH", "$spooldir"),
            sample_default="$CASO_LOCK_PATH if set, else $spooldir",
            help="Directory of the lock file that keeps two runs apart.",
        ),
        cfg.IntOpt(
            "lock_wait",
            default=0,
            min=0,
            help="Seconds to wait for another run's lock before giving "
            "up; 0 gives up at once.",
        ),
        cfg.StrOpt(
            "site_name",
            help="GOCDB name of the site. Required to publish.",
        ),
        cfg.StrOpt(
            "service_name",
            default="$site_name",
            help="Name of the CloudComputeService in the records.",
        ),
        cfg.StrOpt(
            "region_name",
            help="OpenStack region of every service caso reads.",
        ),
    ]


def _benchmark_opts() -> list[cfg.Opt]:
    return [
        cfg.StrOpt(
            "name_key",
            default="accounting:benchmark_type",
            deprecated_opts=[
                cfg.DeprecatedOpt("benchmark_name_key", group="DEFAULT")
            ],
            help="Flavor extra spec holding the benchmark type.",
        ),
        cfg.StrOpt(
            "value_key",
            default="accounting:benchmark_value",
            deprecated_opts=[
                cfg.DeprecatedOpt("benchmark_value_key", group="DEFAULT")
            ],
            help="Flavor extra spec holding the benchmark value.",
        ),
    ]


def _accelerator_opts() -> list[cfg.Opt]:
    specs = [
        ("type_key", "Accelerator:Type", "type (GPU, FPGA, ...)"),
        ("vendor_key", "Accelerator:Vendor", "vendor"),
        ("model_key", "Accelerator:Model", "model"),
        ("number_key", "Accelerator:Number", "number per VM"),
    ]
    return [
        cfg.StrOpt(
            name,
            default=default,
            help=f"Flavor extra spec holding the accelerator {what}.",
        )
        for name, default, what in specs
    ]


def _ssm_opts() -> list[cfg.Opt]:
    # The ssm messenger owns its options.
    return list(ssm.OPTS)


def _keystone_opts() -> list[cfg.Opt]:
    opts: list[cfg.Opt] = [
        *loading.get_auth_common_conf_options(),
        *loading.get_auth_plugin_conf_options("password"),
        *loading.get_session_conf_options(),
    ]
    return opts


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option caso reads, oslo.log's included.

    Args:
        conf: the configuration to register on, before it is parsed.
    """
    conf.register_cli_opts(_cli_opts())
    conf.register_opts(_default_opts())
    conf.register_opts(_benchmark_opts(), group=BENCHMARK_GROUP)
    conf.register_opts(_accelerator_opts(), group=ACCELERATOR_GROUP)
    conf.register_opts(_ssm_opts(), group=SSM_GROUP)
    loading.register_auth_conf_options(conf, KEYSTONE_GROUP)
    loading.register_session_conf_options(conf, KEYSTONE_GROUP)
    log.register_options(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Options by group, for oslo-config-generator (namespace ``caso``).

    ``[keystone_auth]`` lists the options of the ``password`` plugin;
    another ``auth_type`` reads its own.
    """
    return [
        (None, _cli_opts() + _default_opts()),
        (BENCHMARK_GROUP, _benchmark_opts()),
        (ACCELERATOR_GROUP, _accelerator_opts()),
        (SSM_GROUP, _ssm_opts()),
        (KEYSTONE_GROUP, _keystone_opts()),
    ]
