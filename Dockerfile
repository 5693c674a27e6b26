# Build: no libpq, and the one C library (mimalloc) is compiled in, so the runtime image needs only CA certificates.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo .cargo
COPY src src
COPY migrations migrations
RUN cargo build --release --locked --bin hamkori

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 hamkori
COPY --from=build /src/target/release/hamkori /usr/local/bin/hamkori
USER hamkori
# MIMALLOC_PURGE_DELAY=0: the allocator returns freed pages to the system at once, not after a delay that an idle
# thread never reaches; it kept the open-data download within 100 MiB (docs/operations.md, "Memory").
ENV BIND=0.0.0.0:8080 LOG_FORMAT=json MIMALLOC_PURGE_DELAY=0
EXPOSE 8080
ENTRYPOINT ["hamkori"]
CMD ["serve"]
