# syntax=docker/dockerfile:1
#
# kratombot as a small container: a static binary (pure Go, no cgo, SQLite
# included) on a distroless base, running as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t kratombot .
#   docker run --rm -e TELEGRAM_BOT_TOKEN -p 8080:8080 kratombot
#
# Checking a knowledge edit needs no Go, only this image (docs/maintainers.md):
#
#   docker run --rm -v "$PWD/knowledge:/knowledge:ro" kratombot validate /knowledge
#   docker run --rm -v "$PWD/knowledge:/knowledge:ro" kratombot test-questions /knowledge
#
# Configuration is by environment variables (see README.md). The image
# listens on :8080 for /healthz, /readyz, /metrics and webhooks. For the
# opt-in feedback store, mount a volume on /data and set
# KRATOMBOT_STORE=/data/feedback.db (or a postgres:// address).

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/kratombot ./cmd/kratombot
# The image must never ship knowledge that fails its own checks. Checking
# trains the understanding models, and they are kept in /out/models: the
# image starts from them in about 110 ms instead of training at every start
# (a reload with other knowledge trains and adds its own beside them).
RUN mkdir -p /out/data /out/models && \
    KRATOMBOT_CACHE_DIR=/out/models /out/kratombot validate && \
    KRATOMBOT_CACHE_DIR=/out/models /out/kratombot test-questions

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kratombot /usr/local/bin/kratombot
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/models /models
USER 65532:65532
ENV KRATOMBOT_HTTP_ADDR=:8080 \
    KRATOMBOT_LOG_FORMAT=json \
    KRATOMBOT_CACHE_DIR=/models
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/kratombot"]
CMD ["serve"]
