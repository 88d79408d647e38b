# Images of the bridge and of the Bonbon simulator, with nothing but a static binary, the
# CA bundle and a non-root user: no shell, no package manager, nothing to pull (every
# stage starts from scratch). scripts/bridge-image.sh prepares the build context:
#
#   bonbon-bridge, bonbon-sim   static Linux binaries (CGO_ENABLED=0 go build)
#   ca-certificates.crt         the build machine's CA bundle, for HTTPS to Keycloak/Bonbon
#
# Targets: "bridge" (the default, last) and "bonbon-sim".

FROM scratch AS base
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# A numeric user needs no /etc/passwd; 65532 is the conventional "nonroot" id.
USER 65532:65532

FROM base AS bonbon-sim
COPY bonbon-sim /usr/local/bin/bonbon-sim
ENV BONBON_SIM_ADDR=0.0.0.0:8090
EXPOSE 8090
ENTRYPOINT ["/usr/local/bin/bonbon-sim"]

FROM base AS bridge
COPY bonbon-bridge /usr/local/bin/bonbon-bridge
ENV BRIDGE_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/bonbon-bridge"]
CMD ["serve"]
