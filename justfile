# skiff tasks: `npx just <recipe>` (just comes from the rust-just dev dependency)

# list recipes
default:
    @npx just --list

# all-in-one cluster: control plane, embedded broker, one agent (KUBECONFIG in .skiff/)
up *ARGS:
    npm run build
    node bin/skiff.js up {{ARGS}}

# the whole test suite (what CI runs)
test:
    npm test

# typecheck, dependency rules, tests
check:
    npm run typecheck
    npm run lint
    npm test

# every benchmark; each prints JSON (docs/benchmarks.md has the figures and how they were taken)
bench:
    npm run bench:startup
    npm run bench:runtime
    npm run bench:api
    npm run bench:scheduler
    npm run bench:fleet
    npm run bench:footprint
    npm run bench:decoding
    npm run bench:metrics
    npm run bench:wasi

# rebuild the example components (C needs Debian's clang, lld, wasi-libc, libclang-rt-dev-wasm32)
examples *NAMES:
    npx tsx wasm-examples/build.ts {{NAMES}}
