# crm-activate: one image for Airbyte (spec/check/discover/write), Meltano/Singer and plain pipes.
FROM node:24-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json spec.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-slim
ENV NODE_ENV=production
# V8 sizes the young generation from the machine's memory (up to 128 MB on a large host); 8 MB
# semi-spaces keep a run's memory flat near 200 MB at no measurable CPU cost (see BENCHMARKS.md).
# The same value is package.json's config.nodeOptions, which the benchmark runs the CLI with.
ENV NODE_OPTIONS="--max-semi-space-size=8"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error && npm cache clean --force
COPY --from=build /build/dist ./dist
# Airbyte mounts its config and catalog under /airbyte and runs the image as a non-root user;
# OpenShift-style platforms run it as a random uid in group 0, so the folder (where the state
# store goes) is group-0 writable, as their convention goes.
RUN mkdir -p /airbyte && chown 1000:0 /airbyte && chmod g=u /airbyte
USER 1000:1000
WORKDIR /airbyte
ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/node /app/dist/src/main.js"
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/src/main.js"]
LABEL io.airbyte.name="crm-activate/destination-crm-activate" \
      io.airbyte.version="0.1.0" \
      org.opencontainers.image.source="https://github.com/crm-activate/crm-activate"
