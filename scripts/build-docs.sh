#!/usr/bin/env sh
# Writes the API reference, generated from the docstrings by pdoc, to $1
# (default build/docs). Any pdoc warning (an import error, an annotation it
# cannot read, a module given twice) fails the build: the suite runs this.
set -eu
out="${1:-build/docs}"
# The package page lists the public API (infra_gen.__all__, with ids and render);
# each concern module gets a page of its own, with its handle and logical IDs.
exec "${PYTHON:-python3}" -W error -m pdoc --docformat restructuredtext --output-directory "$out" \
  infra_gen infra_gen.template.builder infra_gen.config infra_gen.template.metrics infra_gen.template.params \
  infra_gen.template.loggroups infra_gen.template.network infra_gen.template.loadbalancer infra_gen.template.cloudmap \
  infra_gen.template.service infra_gen.template.scaling infra_gen.template.probe infra_gen.template.alarms infra_gen.template.dashboard \
  infra_gen.template.outputs infra_gen.template.ids infra_gen.template.cluster infra_gen.template.stack
