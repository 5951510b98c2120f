# netstep as a container: a static binary on a distroless base, run as a
# non-root user. Build:  docker build -t netstep .
# Run:    docker run --rm -p 8080:8080 netstep
# Configure with the NETSTEP_* environment variables (see netstep serve --help).

FROM golang:1.26 AS build
# The image's Go fetches the toolchain go.mod asks for (1.27.3: 1.26 calls
# code with known vulnerabilities) from the module proxy.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/netstep .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/netstep /netstep
USER nonroot:nonroot
EXPOSE 8080
ENV NETSTEP_ADDR=:8080
# The embedded NATS node's folder: mount a volume here to keep it.
ENV NETSTEP_DATA=/home/nonroot/netstep-data
ENTRYPOINT ["/netstep"]
CMD ["serve"]
