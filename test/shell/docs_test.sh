#!/usr/bin/env bash
# The man pages lint clean and document every option --help lists (make lint).
set -euo pipefail
cd "$(dirname "$0")/../.."
test/check-docs
