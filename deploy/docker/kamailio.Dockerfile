# Kamailio 5.6 (Debian 12's package) with sipfleet's test configuration, deploy/kamailio/
# unchanged: start.sh checks the config, starts Kamailio on 127.0.0.1:KAMAILIO_PORT (UDP and
# TCP) and waits until it answers OPTIONS; kamailio-entrypoint then keeps it in the foreground.
# 127.0.0.1 only, as in the tests and the demo: run it with host networking (deploy/compose.yaml)
# or in the network namespace of the sipfleet container.
#
#   podman build -f deploy/docker/kamailio.Dockerfile -t sipfleet-kamailio deploy
ARG DEBIAN_IMAGE=debian:bookworm
FROM ${DEBIAN_IMAGE}
# python3 (start.sh's OPTIONS probe), iproute2 (ss: is the port free), procps (ps, pgrep),
# netbase (/etc/protocols: Kamailio looks the TCP protocol number up there).
# policy-rc.d: no package starts its service inside the build.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      kamailio python3 iproute2 procps netbase \
 && rm -rf /var/lib/apt/lists/*
COPY kamailio/ /opt/sipfleet/kamailio/
COPY docker/kamailio-entrypoint.sh /usr/local/bin/kamailio-entrypoint
# The package's system user; 5060 needs no privilege.
USER kamailio
ENV KAMAILIO_PORT=5060
EXPOSE 5060/udp 5060/tcp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kamailio-entrypoint"]
