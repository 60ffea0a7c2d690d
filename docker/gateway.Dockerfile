# The edge gateway: device adapters, durable outbox, MQTT uplink. Serial devices are passed in with
# `devices:` in compose (the `node` user needs the `dialout` group for /dev/ttyUSB*).
FROM node:26-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY dashboard ./dashboard
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm prune --omit=dev --no-audit --no-fund && npm install --no-save tsx

FROM node:26-bookworm-slim
ENV NODE_ENV=production CARE_OUTBOX_DIR=/outbox
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /outbox && chown node:node /outbox && usermod -aG dialout node
USER node
VOLUME ["/outbox"]
CMD ["node", "--import", "tsx", "gateway/main.ts"]
