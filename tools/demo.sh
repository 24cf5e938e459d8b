#!/usr/bin/env bash
# `make demo`: run caso-extract against the test cloud, as a site would
# from cron, with the ssm messenger writing into demo/, and show what it
# did. The test cloud (make testcloud) must be up; `make demo` starts it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bin=$top/.venv/bin

if [ ! -f .testcloud/caso.conf ]; then
  echo "demo: .testcloud/caso.conf is missing; run 'make testcloud' first" >&2
  exit 2
fi

# A fresh demo each time: the first run of a new site.
rm -rf demo
mkdir -p demo
cat >demo/caso.conf <<CONF
# What a site writes; the [keystone_auth] section comes from
# .testcloud/caso.conf (the least-privilege 'caso' user).
[DEFAULT]
site_name = DEMO-SITE
service_name = demo.cloud.example
region_name = RegionOne
# Projects tagged 'caso' are selected; 'gamma' is added by name.
projects = gamma
extractor = nova
messengers = ssm
spooldir = $top/demo/spool
log_file = $top/demo/caso.log

[ssm]
output_path = $top/demo/outgoing
CONF

conf=(--config-file demo/caso.conf --config-file .testcloud/caso.conf)

echo "== caso-projects ${conf[*]}"
"$bin/caso-projects" "${conf[@]}" || true
echo
echo "== caso-extract ${conf[*]}"
start=$(date +%s%N)
status=0
"$bin/caso-extract" "${conf[@]}" || status=$?
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "(exit status $status in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s;" \
     "log in demo/caso.log)"
echo
"$bin/python" tools/demo_report.py demo
exit "$status"
