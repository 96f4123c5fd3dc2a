# Prometheus 2.42 from Debian 12's package, for deploy/compose.yaml where no registry is
# reachable (the upstream image cannot be pulled). Configuration: mount deploy/prometheus at
# /etc/prometheus; data goes to /prometheus.
#
#   podman build -f deploy/docker/prometheus.Dockerfile -t sipfleet-prometheus deploy
ARG DEBIAN_IMAGE=debian:bookworm
FROM ${DEBIAN_IMAGE}
# policy-rc.d: no package starts its service inside the build.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o prometheus -g prometheus /prometheus
USER prometheus
VOLUME /prometheus
EXPOSE 9090/tcp
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", \
     "--web.listen-address=127.0.0.1:9090"]
