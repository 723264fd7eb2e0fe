# syntax=docker/dockerfile:1
# Untested here: the development machines have no Docker engine. See README "Docker".

# Build stage: the full toolchain compiles TypeScript to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
# the production build: the server, the CLI and what `bench` needs, no tests; and the console,
# bundled by Vite into dist/console
RUN npx tsc -p tsconfig.build.json && npm run build:console

# Final stage: production dependencies only, run as the unprivileged `node` user.
# The admin port listens on all of the container's interfaces, so give it a token at run time:
#   docker run -e PACKAGE_INDEXER_ADMIN_TOKEN="$(openssl rand -hex 24)" ...
# (never baked into the image; without one the server warns at startup). /healthz needs none.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PACKAGE_INDEXER_DATA_DIR=/var/lib/package-indexer \
    PACKAGE_INDEXER_ADMIN_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
# better-sqlite3 is a native addon: the toolchain is there only while it builds, if no prebuilt binary fits.
# It is built for 24.18.1, same ABI: built against 24.19+ headers, better-sqlite3 12 aborts the
# process when the collector frees one of its objects outside JavaScript (see .ci/run).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && npm_config_target=24.18.1 npm ci --omit=dev --no-audit --no-fund \
 && apt-get purge -y --auto-remove python3 make g++ \
 && rm -rf /var/lib/apt/lists/* /root/.npm /root/.cache
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/package-indexer && chown node:node /var/lib/package-indexer
USER node
VOLUME ["/var/lib/package-indexer"]
EXPOSE 8080 8081
# node's own fetch: the slim image has no curl
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
