# The image ghcr.io/buoy-deploy/buoy:v<version>: the Action's binary (the
# entrypoint, for `uses: docker://ghcr.io/buoy-deploy/buoy:v1.2.3`) and
# the buoy CLI, both static and stamped with the version. The release
# workflow builds it for linux/amd64 and linux/arm64 with
# --build-arg VERSION=<tag>; anyone can build it from a checkout:
#
#   docker build --build-arg VERSION=v1.2.3 -t buoy .
#
# GitHub's rules for container actions: no USER (the action must run as
# root to write the workspace and the file-command files), no reliance on
# WORKDIR (the runner mounts the workspace and sets the working
# directory), an exec-form ENTRYPOINT with an absolute path.
# action/dockerfile_test.go checks these rules, and runs the go build
# commands below to check that they build binaries that say VERSION.

# The build runs on the builder's platform and cross-compiles: no
# emulation for arm64.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w -X main.version=$VERSION" -o /out/buoy-action ./action
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w -X main.version=$VERSION" -o /out/buoy ./cmd/buoy

# distroless/static runs as root and carries the CA certificates
# (/etc/ssl/certs/ca-certificates.crt) and tzdata the AWS and GitHub
# clients need.
FROM gcr.io/distroless/static-debian12
ARG VERSION=dev
LABEL org.opencontainers.image.title=buoy \
      org.opencontainers.image.description="buoy deploys container images to Amazon ECS by moving floating ECR tags" \
      org.opencontainers.image.source=https://github.com/buoy-deploy/buoy \
      org.opencontainers.image.licenses=Apache-2.0 \
      org.opencontainers.image.version=$VERSION
COPY --from=build /out/buoy-action /usr/local/bin/buoy-action
COPY --from=build /out/buoy /usr/local/bin/buoy
ENTRYPOINT ["/usr/local/bin/buoy-action"]
