# syntax=docker/dockerfile:1
# fedblog as a small container: built in one stage, run from a slim one as a non-root
# user, with the configuration, content and database on the /data volume.
#
#   docker build -t fedblog .
#   docker run --rm -it -v fedblog:/data fedblog init --listen 0.0.0.0:8080 \
#       --domain blog.example --handle you --name "Your Name" --bio "..."
#   docker run -d --name fedblog -p 127.0.0.1:8080:8080 -v fedblog:/data fedblog
#
# See docs/SELF-HOSTING.md for the TLS reverse proxy in front of it.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY migrations migrations
COPY src src
COPY templates templates
# The cargo registry and target folder are cache mounts: rebuilds after a code change
# recompile only fedblog itself.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin fedblog \
    && install -D -m 0755 target/release/fedblog /out/fedblog

FROM debian:bookworm-slim AS runtime
# TLS roots for fetching remote actors and delivering to https inboxes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 fedblog \
    && useradd --system --uid 10001 --gid fedblog --home-dir /data --shell /usr/sbin/nologin fedblog \
    && install -d -o fedblog -g fedblog -m 0750 /data
COPY --from=build /out/fedblog /usr/local/bin/fedblog
USER fedblog:fedblog
WORKDIR /data
VOLUME ["/data"]
ENV FEDBLOG_CONFIG=/data/config.toml \
    FEDBLOG_LOG_FORMAT=json
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/fedblog"]
CMD ["serve"]
