# syntax=docker/dockerfile:1
# rrsa-operator: one image, one binary (`manager`, `doctor`, ...). Node.js 24 LTS.
# Product code only (docs/adr/0007-product-and-tooling-layout.md): src/ and crds/. The development
# tooling (devenv/, the emulator workspace package in packages/) is neither copied nor built.
# src/ and its production dependencies are bundled into dist/ (hack/build.ts, docs/adr/0021):
# the final stage has no node_modules.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: the image already has Node 24, so the `node` devDependency's binary download
# (which the npm scripts use on Node 20 machines) is not needed here.
# packages/ is not copied: npm ci skips the lockfile's workspace link whose folder is absent, so
# node_modules gets exactly the root's dependencies and no link to the emulator.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY hack/build.ts ./hack/build.ts
COPY src ./src
# esbuild strips types without checking them: an image is never built from code that does not
# type-check (src/ alone, the product's own tsconfig).
RUN npx tsc -p tsconfig.build.json --noEmit
RUN node hack/build.ts

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
# One glibc malloc arena instead of one per thread (8 x cores): the idle manager's malloc heap
# 11 -> 6 MiB with two (docs/adr/0021); one saves another 2-3 MiB under webhook load at the same
# admissions/s (docs/adr/0022; threads keep their own small-block caches).
ENV MALLOC_ARENA_MAX=1
# Blocks of 32 KiB and more (request bodies, list responses) are mmap'd and go back to the OS when
# freed, and the heap's top is trimmed past 64 KiB with no padding: without these glibc kept
# 20-22 MiB of freed network buffers resident under webhook load, 14-16 with them (docs/adr/0022).
ENV MALLOC_MMAP_THRESHOLD_=32768
ENV MALLOC_TRIM_THRESHOLD_=65536
ENV MALLOC_TOP_PAD_=0
WORKDIR /app
COPY --from=build /src/dist ./dist
COPY crds ./crds
# Non-root, numeric (runAsNonRoot can verify it); nothing is written outside /tmp, so the root
# filesystem can be read-only.
USER 65532:65532
# Node is PID 1: the manager installs its own SIGTERM/SIGINT handlers (graceful shutdown), so no
# init shim is needed; exec form keeps signals going to node.
# --max-semi-space-size=4: V8's young generation grew to 128 MiB committed after a burst of
# reconciles; 8 MiB semi-spaces measured no slower (docs/adr/0019), and 4 MiB keep 8 MiB less
# resident under webhook load at the same admissions/s (docs/adr/0022). --memory-saver-mode: V8
# collects and compacts its old generation more eagerly (old space 9-11 MiB under webhook load
# instead of 15-17), for 5-14% fewer large-pod admissions/s (docs/adr/0022). --expose-gc: the
# manager's heap scavenger (src/runtime/heap-scavenger.ts) returns freed heap pages to the OS after a burst.
# --disable-warning=DEP0169: a bundled SDK dependency calls url.parse(); Node warns about that only
# outside node_modules, which a bundle is.
ENTRYPOINT ["node", "--expose-gc", "--max-semi-space-size=4", "--memory-saver-mode", "--disable-warning=DEP0169", "dist/main.js"]
CMD ["manager"]
