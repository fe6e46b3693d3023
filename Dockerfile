# The image of buoy's GitHub Action (action.yml: runs.using docker). It
# carries the action (the entrypoint) and the buoy CLI, both static.
#
# GitHub's rules for container actions: no USER (the action must run as
# root to write the workspace and the file-command files), no reliance on
# WORKDIR (the runner mounts the workspace and sets the working directory),
# an exec-form ENTRYPOINT with an absolute path. action/dockerfile_test.go
# checks these rules and that the go build commands below build.

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/buoy-action ./action
RUN go build -trimpath -ldflags="-s -w" -o /out/buoy ./cmd/buoy

# distroless/static runs as root and carries the CA certificates
# (/etc/ssl/certs/ca-certificates.crt) and tzdata the AWS and GitHub
# clients need.
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/buoy-action /usr/local/bin/buoy-action
COPY --from=build /out/buoy /usr/local/bin/buoy
ENTRYPOINT ["/usr/local/bin/buoy-action"]
