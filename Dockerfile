# matrix-orchestrator image: one image, two services. The default command runs the API;
# docker-compose.yml runs the worker from the same image with `node dist/worker/main.js`.
# No HEALTHCHECK here for that reason: only the API serves HTTP (compose probes /healthz).

# --- build: compile TypeScript -------------------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency's install script would download a second Node binary and link it as
# node_modules/.bin/node, where `npm run` would pick it before the image's Node 22. Skip install
# scripts (the TypeScript build needs none) and remove that package, so the base image's node runs.
RUN npm ci --ignore-scripts && rm -rf node_modules/node node_modules/.bin/node
COPY tsconfig.json ./
COPY lib ./lib
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY scripts ./scripts
RUN npm run build

# --- runtime: production dependencies, compiled code, migrations ---------------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts run here (native bindings such as @swc/core, used by the worker's workflow bundler).
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at runtime from dist/adapters/store/db.js as ../../../migrations/, i.e. /app/migrations.
COPY migrations ./migrations
# The realtime relay's demo page, read at runtime from dist/api/relay/ as ../../../api/static/.
COPY api/static ./api/static
# Files stay root-owned (read-only to the app); the process runs as the base image's `node` user.
USER node
EXPOSE 8080
CMD ["node", "dist/api/main.js"]
