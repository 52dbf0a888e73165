#!/usr/bin/env bash
# Fetch ELMAG 2.02 (Kachelriess, Ostapchenko & Tomas 2012, Comput. Phys. Commun. 183, 1036)
# with the Dominguez et al. (2011) EBL table of the public repository me-manu/myElmag202,
# and compile it with our serial driver elmag_corona.f90 (Debian/Ubuntu: apt-get install
# gfortran git). ELMAG's code is not part of this repository: it is built outside it.
#
#   [ELMAG_REPO_URL=...] benchmarks/elmag/build.sh [WORKDIR]        (default /tmp/elmag)
#
# Result: WORKDIR/build/elmag_corona and the tables in WORKDIR/src/Tables.
# The one change to ELMAG's text: `stop'text'` -> `stop 'text'` in init202.f90, which
# gfortran >= 10 no longer accepts without the blank.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-/tmp/elmag}"
repo_url="${ELMAG_REPO_URL:-https://github.com/me-manu/myElmag202.git}"   # or a local mirror
commit="4b0e36c"        # the snapshot the stored reference spectra were made with
mkdir -p "$work"
if [ ! -d "$work/src/.git" ] && [ ! -f "$work/src/src/elmag202.f90" ]; then
    git clone --quiet "$repo_url" "$work/src"
    git -C "$work/src" checkout --quiet "$commit"
fi
mkdir -p "$work/build"
cd "$work/build"
sed "s/stop'/stop '/" "$work/src/src/init202.f90" > init202.f90
flags="-O2"
gfortran $flags -c "$work/src/src/modules202.f90"
gfortran $flags -c "$here/elmag_corona.f90"          # defines ELMAG's user_variables
gfortran $flags -c "$work/src/src/aux202.f90" init202.f90 "$work/src/src/elmag202.f90"
gfortran $flags -o elmag_corona elmag_corona.o modules202.o aux202.o init202.o elmag202.o
echo "built $work/build/elmag_corona (tables: $work/src/Tables)"
