#!/usr/bin/env bash
# Builds the bf16 bench programs of this folder into ${1:-/tmp/srgan-bf16-bench} (see README.md).
# The kernel objects are compiled with Swift's clang, as SwiftPM compiles Sources/CKernels; the
# bench mains with gcc, for OpenMP (Swift's clang ships no omp.h).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels="$here/../../Sources/CKernels"
out=${1:-/tmp/srgan-bf16-bench}
mkdir -p "$out/obj"
for f in bf16_gemm cpu isa_baseline isa_avx2 isa_avx512; do
    clang -O2 -I"$kernels/include" ${SR_BF16_FLAGS:-} -c "$kernels/$f.c" -o "$out/obj/$f.o"
done
gcc -O2 -fopenmp -I"$kernels/include" "$here/gemm_bench.c" "$out"/obj/*.o -lopenblas -o "$out/gemm_bench"
clang -O2 "$here/sbgemm_bench.c" -ldl -o "$out/sbgemm_bench"
if [ -e /usr/include/oneapi/dnnl/dnnl.h ]; then
    gcc -O2 -fopenmp "$here/dnnl_bench.c" -ldnnl -o "$out/dnnl_bench"
else
    echo "build.sh: note: no oneDNN headers (apt-get install libdnnl-dev): dnnl_bench not built" >&2
fi
echo "$out"
