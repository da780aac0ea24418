# Build stage: compile TypeScript, then keep only production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY validators ./validators
RUN npm run build && npm prune --omit=dev

# Runtime stage: non-root, data in a volume.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/mayfly --create-home mayfly
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
ENV MAYFLY_HOME=/var/lib/mayfly NODE_ENV=production
USER mayfly
VOLUME ["/var/lib/mayfly"]
EXPOSE 5016
ENTRYPOINT ["node", "/app/bin/mayfly"]
CMD ["serve", "--listen", "0.0.0.0:5016"]
