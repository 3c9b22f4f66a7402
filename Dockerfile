# Sundial's image: the daemon (`sundial start`) with its production dependencies and src/ compiled
# to dist/ (`npm ci` runs `prepare`, bin/build.js, with esbuild, a production dependency); skills stay
# .ts files, compiled when loaded.
#
#   docker build -t sundial .
#   docker run -d --name sundial --env-file .env \
#     -p 127.0.0.1:8787:8787 -v sundial-data:/app/data --stop-timeout 40 sundial
#
# - Publish the port on 127.0.0.1 only: /healthz and /metrics have no authentication. Inside the
#   container the server listens on 0.0.0.0, or the published port could not reach it.
# - --stop-timeout 40 (compose: stop_grace_period: 40s): Docker's default of 10 s would kill runs
#   before schedules.json's shutdownGrace (30 s by default) is over. Keep it above shutdownGrace.
# - Secrets come from the environment (--env-file); .dockerignore keeps .env out of the image.
# - To use your own jobs without rebuilding, mount them read-only over the shipped ones, e.g.
#   -v ./skills:/app/skills:ro -v ./config:/app/config:ro -e SUNDIAL_SCHEDULES=config/schedules.json
#   (mount a folder rather than the single file: editors replace files, and a bind-mounted file
#   keeps showing the old one, so the daemon's reload would never see the change).
#
# test/packaging/docker-replay.test.ts replays these steps (the COPY lines, `npm ci`, the CMD) in a
# temporary folder, so keep them in the simple forms it reads.

# One base for both stages: better-sqlite3 is a native module and must be built against the same
# Node and libc it runs on. Node 22 because some production dependencies require it.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# Toolchain for node-gyp, in case better-sqlite3 has no prebuilt binary for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# What `prepare` compiles: bin/build.js turns src/ into dist/.
COPY bin ./bin
COPY src ./src
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
# tini as PID 1 forwards SIGTERM to node and reaps processes that skills leave behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    SUNDIAL_DATA_DIR=/app/data \
    SUNDIAL_HTTP_HOST=0.0.0.0 \
    SUNDIAL_HTTP_PORT=8787
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
COPY skills ./skills
COPY schedules.json schedules.schema.json ./
# The app stays root-owned (read-only to the daemon); only the data directory is the node user's.
# Created before VOLUME so a new named volume starts with this ownership.
RUN mkdir -p /app/data && chown node:node /app/data
# The daemon's compiled skills (src/skill/compile.ts): without it, skills load through tsx (slower).
RUN mkdir -p /app/node_modules/.cache/sundial-skills && chown node:node /app/node_modules/.cache/sundial-skills
USER node
VOLUME /app/data
EXPOSE 8787
# node itself, since slim images have no curl; follows SUNDIAL_HTTP_PORT if it is overridden.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SUNDIAL_HTTP_PORT||8787)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# node directly, not `npm start`: npm would sit between tini and node and does not reliably pass
# SIGTERM on or wait for node, so running runs would not get their grace period.
CMD ["node", "bin/sundial.js", "start"]
