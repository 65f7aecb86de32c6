# kvorum: one node per container. docker-compose.yml runs three; deploy/k8s/ a StatefulSet.
#   docker build -t kvorum .
#   docker run -p 7001:7001 -v kvorum-n1:/data -e KVORUM_ID=n1 kvorum
# The node binds 0.0.0.0:7001 inside the container; the URL it gives out to peers and clients is
# --advertise (or env KVORUM_ADVERTISE), else its --peers entry, else the container's host name.
# Extra `kvorum start` flags go after the image name, e.g. for one node of a three-node cluster:
#   docker run ... -e KVORUM_ID=n1 -e KVORUM_ADVERTISE=http://kv1:7001 -e KVORUM_SECRET_FILE=/run/secrets/s kvorum \
#     --peers n1=http://kv1:7001,n2=http://kv2:7001,n3=http://kv3:7001
# Check a command line without starting anything: append --check-config (prints the configuration, exit 0/1).

# ---- build: compile TypeScript and the native better-sqlite3 binding ----
FROM node:20-bookworm AS build
# python3, make and g++ build better-sqlite3 from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY config ./config
COPY src ./src
# The build copies the web console's static files (src/ui) to dist/ui with this script.
COPY scripts/copy-ui.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

# ---- runtime: the compiled program, production dependencies, no compiler ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    KVORUM_ID=n1
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/config ./config
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 7001
# The slim image has no curl: use Node's global fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7001/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec: node becomes PID 1 and receives SIGTERM from `docker stop` (graceful shutdown).
# Flags given to `docker run` come after the defaults and win over them (keep --listen's port 7001:
# the HEALTHCHECK and EXPOSE use it).
ENTRYPOINT ["sh", "-c", "exec node dist/cli/kvorum.js start --id \"$KVORUM_ID\" --listen 0.0.0.0:7001 --data-dir /data \"$@\"", "kvorum"]
CMD []
