#!/usr/bin/env bash
# install-deps.sh - install the Debian packages heaplab needs, and only those
# that are missing.  Non-interactive, without recommends; `apt-get update`
# runs only when an install needs it.  When everything is present it costs
# one dpkg-query.
#
#   scripts/install-deps.sh            what build, test, plots and fuzz need
#   scripts/install-deps.sh programs   the real-program suite's programs
#                                      (make programs); make test does not
#                                      install these: the suite's ctest test
#                                      uses only sqlite3 and lua5.4, which
#                                      are in the main list
set -euo pipefail

main_packages=(
  gcc g++ make cmake pkg-config        # the build
  libbenchmark-dev                     # timing, through harness/bench_shim.cc
  libcjson-dev                         # reading and writing results
  libgc-dev                            # Boehm GC, the tracing collector
  libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4  # the system allocators, preloaded
  python3                              # the tests' checks of result files
  valgrind                             # --instructions (Callgrind) and memcheck runs
  libbenchmark-tools python3-scipy     # Google Benchmark's compare.py, read by a test
  gnuplot-nox fonts-dejavu-core        # make plots
  chromium                             # the HTML report's browser test
  clang libclang-rt-14-dev             # make fuzz: libFuzzer and the sanitizers' runtime
  sqlite3 lua5.4                       # the real-program suite's test (small)
)

# scripts/programs.py: the programs it runs, beyond the two above.
programs_packages=(
  sqlite3 lua5.4 python3               # small interpreters and a database
  ghostscript                          # PostScript rendering
  z3                                   # an SMT solver
)

case ${1:-} in
  '') packages=("${main_packages[@]}") ;;
  programs) packages=("${programs_packages[@]}") ;;
  *) echo "install-deps: unknown group '$1'; valid: no argument (build and test) or 'programs'" >&2
     exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_install() { "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
# Try with the package lists we have; refresh them only if that fails.
if ! apt_install 2>/dev/null; then
  "${sudo[@]}" apt-get update -qq >&2
  apt_install
fi
