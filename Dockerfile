# syntax=docker/dockerfile:1
# Teamjourney: multi-stage build on the current Node LTS (slim), running as a non-root user.
#   docker build -t teamjourney .
#   docker run --env-file .env -p 8080:8080 -v teamjourney-data:/data teamjourney
# .env.example leaves DATABASE_URL commented out, so the image's own (on the /data volume) applies.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# sqlite3 may need to compile its native addon when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
# Compile with the dev dependencies (tsc), then drop them: the runtime stage gets production modules only.
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATABASE_URL=sqlite:///data/teamjourney.sqlite \
    HTTP_PORT=8080 \
    HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# /healthz, /readyz and (with KIE_CALLBACK_URL) /kie/callback.
EXPOSE 8080
# Slim images have no curl: Node's own fetch asks /healthz on the configured port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The built output directly: no npm, no tsc, no dev dependencies at run time.
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
