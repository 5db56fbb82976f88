# keruta-api as a container image. From the repository root:
#
#   docker build -t keruta-api .
#   docker run --rm -v keruta-data:/data keruta-api keys create --scopes logs:read,logs:write --name ci
#   docker run -d --name keruta -p 8080:8080 -v keruta-data:/data --stop-timeout 15 keruta-api
#
# The image holds what `npm install keruta-api` installs, from the same tarballs `npm pack`
# makes (the tarball test installs those too): no source, no dev dependencies, no build tools.

# Build tools, only for a platform without a prebuilt better-sqlite3 (it is downloaded otherwise).
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*

# Build the workspace and pack the packages keruta-api is made of.
FROM toolchain AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
  && npm run build \
  && npm pack --pack-destination /tarballs -w @keruta/protocol -w @keruta/settings -w @keruta/storage -w keruta-api

# Install the tarballs as a user would, without dev dependencies.
FROM toolchain AS install
WORKDIR /opt/keruta
COPY --from=build /tarballs /tarballs
RUN echo '{"private": true}' > package.json \
  && npm install --omit=dev --no-audit --no-fund /tarballs/*.tgz \
  && rm -rf /root/.npm

FROM node:20-bookworm-slim
COPY --from=install /opt/keruta /opt/keruta
# The defaults: every address (so a credential is required: auth mode none is refused off
# loopback), the SQLite file and the API keys file in the /data volume.
ENV NODE_ENV=production \
    KERUTA_API_HOST=0.0.0.0 \
    KERUTA_API_PORT=8080 \
    KERUTA_DATABASE_URL=sqlite:/data/keruta.db \
    KERUTA_AUTH_MODE=apikey \
    KERUTA_API_KEYS_FILE=/data/api-keys.yaml
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.KERUTA_API_PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# On SIGTERM keruta-api stops accepting connections, stores and acknowledges the agent batches
# it holds, closes WebSockets with 1001 and exits within 10 s: stop it with a longer timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/keruta/node_modules/.bin/keruta-api"]
CMD []
