#!/usr/bin/env bash
# Installs the Debian packages the build and tests need (nothing else is downloaded).
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config ccache
  libdnnl-dev            # oneDNN: packed sgemm for prefill / batched matmuls
  nlohmann-json3-dev     # JSON: configs, safetensors headers, tokenizer.json
  libcli11-dev           # command-line parsing
  libpcre2-dev           # Unicode-aware regexes for tokenizers
  libutf8proc-dev        # Unicode normalisation for tokenizers
  libjpeg62-turbo-dev libpng-dev  # image decoding (the libjpeg-turbo PIL uses)
  libcpp-httplib-dev     # HTTP server
  libgtest-dev libgmock-dev libbenchmark-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
