#!/usr/bin/env bash
# Entry point of every Conveyor image: `serve` (default) or `migrate [--revision R]`.
# The service reads <SERVICE>_HOST/<SERVICE>_PORT; in a container it must listen on all
# interfaces, so the host defaults to 0.0.0.0 and the port to the image's CONVEYOR_PORT.
set -euo pipefail

service="${CONVEYOR_SERVICE:?CONVEYOR_SERVICE is not set (the image was built without SERVICE)}"
prefix="${service^^}"
host_var="${prefix}_HOST"
port_var="${prefix}_PORT"
export "${host_var}=${!host_var:-0.0.0.0}"
export "${port_var}=${!port_var:-${CONVEYOR_PORT:-8000}}"

exec python -m "$service" "$@"
