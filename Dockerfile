# syntax=docker/dockerfile:1
# clerk-webhook behind nginx in one container. Every RUN here calls a script that CI runs too
# (scripts/install-packages.sh, scripts/build.sh, scripts/container-start.sh), so `scripts/test.sh`
# exercises each step even on machines without a Docker engine.
#
#   docker build -t clerk-webhook .
#   docker run -p 8080:8080 -e CLERK_WEBHOOK_SIGNING_SECRET=whsec_... -e DATABASE_URL=postgresql://... clerk-webhook

# The Swift release CI tests with (scripts/test.sh checks the two agree).
ARG SWIFT_IMAGE=swift:6.3-bookworm

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY scripts/install-packages.sh scripts/
RUN scripts/install-packages.sh build
COPY . .
RUN bin="$(scripts/build.sh)" \
    && install -D -m 0755 "$bin/clerk-webhook" /out/bin/clerk-webhook \
    && install -D -m 0755 "$bin/clerk-sync" /out/bin/clerk-sync

FROM debian:bookworm-slim
COPY scripts/install-packages.sh /tmp/install-packages.sh
RUN /tmp/install-packages.sh runtime \
    && rm -rf /var/lib/apt/lists/* /tmp/install-packages.sh \
    && useradd --system --no-create-home --shell /usr/sbin/nologin clerkwh
COPY --from=build /out/bin/ /usr/local/bin/
COPY scripts/container-start.sh /usr/local/bin/container-start.sh
COPY nginx/ /usr/share/clerk-webhook/nginx/
COPY supabase/migrations/ /usr/share/clerk-webhook/migrations/

# Configuration only through the environment (see README): CLERK_WEBHOOK_SIGNING_SECRET (or
# ..._FILE), DATABASE_URL (or ..._FILE), CLERK_WEBHOOK_MODE, CLERK_WEBHOOK_WORKERS, ...
ENV CLERK_WEBHOOK_MODE=warm \
    CLERK_WEBHOOK_LISTEN=8080 \
    CLERK_SYNC_MIGRATIONS_DIR=/usr/share/clerk-webhook/migrations
USER clerkwh
EXPOSE 8080
# The health URL wherever CLERK_WEBHOOK_LISTEN puts nginx ("9000", "127.0.0.1:9000", "[::]:9000").
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD /usr/local/bin/container-start.sh health || exit 1
CMD ["/usr/local/bin/container-start.sh"]
