#!/usr/bin/env sh
# Writes the API reference, generated from the docstrings by pdoc, to $1
# (default build/docs). Any pdoc warning (an import error, an annotation it
# cannot read, a module given twice) fails the build: the suite runs this.
set -eu
out="${1:-build/docs}"
# The package page lists the public API (infra_gen.__all__, with ids and render);
# each concern module gets a page of its own, with its handle and logical IDs.
exec "${PYTHON:-python3}" -W error -m pdoc --docformat restructuredtext --output-directory "$out" \
  infra_gen infra_gen.builder infra_gen.config infra_gen.metrics infra_gen.params \
  infra_gen.loggroups infra_gen.network infra_gen.loadbalancer infra_gen.cloudmap \
  infra_gen.ecs infra_gen.scaling infra_gen.probe infra_gen.alarms infra_gen.dashboard \
  infra_gen.outputs
