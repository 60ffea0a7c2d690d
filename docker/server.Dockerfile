# The eldercare server: embedded MQTT broker, ingest, alarm engine, REST API, dashboard.
# Multi-stage: build tools stay in the first stage; the runtime runs as the unprivileged `node` user.
FROM node:26-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY dashboard ./dashboard
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:dashboard && npm prune --omit=dev --no-audit --no-fund && npm install --no-save tsx

FROM node:26-bookworm-slim
ENV NODE_ENV=production CARE_DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 1883 8883
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.CARE_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "server/main.ts"]
