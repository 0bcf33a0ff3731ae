#!/bin/sh
# The whole gateway in one lab (issue 21), in network namespaces P-* (P: a prefix unique to the
# run), everything it starts recorded by PID under the state folder and stopped by `down`:
#
#   P-isp1 [br 10.201.0.1; lo 10.250.0.53 Unbound, 10.250.0.7 echo "isp-a"] — wan1 of both gateways
#   P-isp2 [br 10.202.0.1; lo 10.250.0.53 Unbound, 10.250.0.7 echo "isp-b"] — wan2 of both gateways
#          isp1 [x2 10.249.0.1] — [x1 10.249.0.2] isp2: the internet between them (each routes the other's customers)
#   P-mdm  [bridge: g — gwa's wan1, i — isp1]: gateway A's modem on wan1; no bottleneck until a
#          test puts one on (`lab.sh modem`: tbf each way, the deep-buffered modem of the bufferbloat row)
#   P-rmt  [eth0 10.211.0.2, behind isp1 at 10.211.0.1]: a remote WireGuard client of gateway A
#   P-gwa  [wan1 10.201.0.2, wan2 10.202.0.2, lan0 10.203.0.2] edgedns + kea-dhcp4 (HA primary) + keepalived (priority 150)
#          + WireGuard PREFIXwg, 10.44.0.1/24 (wireguard-go started here, configured by edgedns)
#   P-gwb  [wan1 10.201.0.3, wan2 10.202.0.3, lan0 10.203.0.3] edgedns + kea-dhcp4 (HA standby) + keepalived (priority 100)
#          both gateways also run kea-dhcp6 (HA hot-standby) for fd03:203::/64 (A fd03:203::2, B fd03:203::3)
#   P-lan  [bridge br0]: the LAN switch, 10.203.0.0/23; 10.203.0.1 is the VRRP address, owned by the master
#   P-c1, P-c2 [eth0, DHCP]: LAN clients (busybox udhcpc, hostnames c1 and c2; c1 also ISC dhclient -6)
#   P-load [eth0 10.203.0.90]: load, bulk traffic and a DHCP storm (dhcp-storm.mjs, mixed-load.mjs)
#
# usage: lab.sh up|down|status [PREFIX [STATE]]    (PREFIX: default elab; STATE: default /tmp/edgedns-lab-PREFIX)
#        lab.sh start|stop PREFIX ROLE GW [STATE]  (ROLE: edgedns|kea|kea6|keepalived|udhcpc|dhclient6, GW: a|b|c1|c2)
#        lab.sh modem PREFIX RATE|off [STATE]      (gateway A's modem: RATE each way, 400 ms of buffer)
# By hand: `npm run lab -- up`, then e.g. `ip netns exec elab-c1 dig @10.203.0.1 c2.lan.test`,
# `ip netns exec elab-gwa npx edgedns show ha --admin unix:/tmp/edgedns-lab-elab/gwa/admin.sock`, `npm run lab -- down`.
set -e
CMD=$1; P=${2:-elab}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NODE=${NODE:-$(command -v node)}
if [ "$CMD" = start ] || [ "$CMD" = stop ]; then ROLE=$3; GW=$4; S=${5:-/tmp/edgedns-lab-$P}
elif [ "$CMD" = modem ]; then RATE=$3; S=${4:-/tmp/edgedns-lab-$P}
else S=${3:-/tmp/edgedns-lab-$P}; fi
PIDS=$S/pids
NS() { echo "$P-$1"; }
# WireGuard interface names (UAPI sockets live in /var/run/wireguard, shared by every namespace)
WG_GW=$(echo "${P}wg" | cut -c1-15); WG_RMT=$(echo "${P}wr" | cut -c1-15)

# start_wg NAME NETNS IFNAME: wireguard-go in NETNS, until wg can talk to it. Started again (up to
# three times) when it exits first: once in a CI run it quit at start with "Failed to listen on
# uapi socket: no such file or directory" while other tests' wireguard-go came and went.
start_wg() {
  t=0
  while :; do
    t=$((t + 1))
    run_bg "$1" "$2" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go -f "$3"
    i=0
    until ip netns exec "$2" wg show "$3" listen-port >/dev/null 2>&1; do
      i=$((i + 1))
      if ! kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; then
        [ $t -ge 3 ] && { echo "wireguard-go $3 exited at start: $(cat "$S/$1.log")" >&2; exit 1; }
        continue 2
      fi
      [ $i -gt 100 ] && { echo "wireguard-go $3 did not come up" >&2; exit 1; }
      sleep 0.05
    done
    return 0
  done
}

# run_bg NAME NETNS CMD...: start in the background, log to STATE/NAME.log, PID to STATE/pids/NAME.pid
run_bg() {
  name=$1; ns=$2; shift 2
  ip netns exec "$ns" "$@" >"$S/$name.log" 2>&1 &
  echo $! >"$PIDS/$name.pid"
}

stop_pid() {
  f=$PIDS/$1.pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

gw_addr() { [ "$1" = a ] && echo 2 || echo 3; }

# Kea's lease commands and the HA hot-standby pair (A primary, B standby): this server, HA port
kea_hooks() {
  cat <<EOF
  "hooks-libraries": [
    { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" },
    { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so", "parameters": { "high-availability": [{
      "this-server-name": "$1", "mode": "hot-standby",
      "heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000, "max-unacked-clients": 0, "sync-timeout": 5000,
      "multi-threading": { "enable-multi-threading": true, "http-dedicated-listener": true, "http-listener-threads": 1, "http-client-threads": 1 },
      "peers": [
        { "name": "gwa", "url": "http://10.203.0.2:$2/", "role": "primary", "auto-failover": true },
        { "name": "gwb", "url": "http://10.203.0.3:$2/", "role": "standby", "auto-failover": true } ] }] } } ],
EOF
}

write_configs() {
  # one admin token for the pair: each reads the other's dynamic zone with it
  [ -f "$S/admin.token" ] || od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$S/admin.token"
  chmod 600 "$S/admin.token"
  for g in a b; do
    n=$(gw_addr $g)
    other=$([ $g = a ] && echo b || echo a); on=$(gw_addr $other)
    role=$([ $g = a ] && echo primary || echo standby)
    prio=$([ $g = a ] && echo 150 || echo 100)
    mkdir -p "$S/gw$g"
    cat >"$S/gw$g/edgedns.yaml" <<EOF
# gateway $g of the lab: the LAN's resolver on every address of lan0 (the VRRP address too)
listen:
  - { interface: lan0, port: 53, protocols: [udp, tcp, doh] }
  - { address: 127.0.0.1, port: 53 }
tls: { cert: $S/certs/server.pem, key: $S/certs/server.key }
zone: { domain: lan.test, ttl: 30 }
upstreams:                                  # DoT first; plain DNS when it fails
  - { name: isp-dot, url: "tls://10.250.0.53:853", tls-name: dns.isp.test, tls-ca: $S/certs/ca.pem }
  - { name: isp-udp, url: "udp://10.250.0.53:53" }
upstream-timeout: 400ms
forward: [{ domain: whoami.test, upstreams: [udp://10.250.0.53:53] }]
leases: { kea4: $S/gw$g/leases4.csv, kea6: $S/gw$g/leases6.csv, ttl: 30s }
uplinks:
  - { name: wan-a, interface: wan1, gateway: 10.201.0.1, priority: 100, weight: 3, probes: [{ type: dns, target: 10.250.0.53, interval: 300ms, timeout: 200ms }], down-after: 2, up-after: 2, hold-down: 2s,
      smart-queueing: { bandwidth-up: 500mbit, bandwidth-down: 500mbit, ingress: false } }
  - { name: wan-b, interface: wan2, gateway: 10.202.0.1, priority: 50, probes: [{ type: dns, target: 10.250.0.53, interval: 300ms, timeout: 200ms }], down-after: 2, up-after: 2, hold-down: 2s }
multi-wan: { mode: failover, apply-routes: true, nat: masquerade, on-failover: flush }   # the load-balance row reloads with mode: load-balance
ddns:                                       # RFC 2136 from the LAN, followed by the other gateway
  accept: [{ from: 10.203.0.0/23, names: ['*.lan.test'], types: [A, AAAA, TXT] }]
  journal: $S/gw$g/ddns.journal
ha: { state-file: $S/gw$g/ha.state, peer: 'http://10.203.0.$on:9153' }
admin: { socket: $S/gw$g/admin.sock, http: '10.203.0.$n:9153', token-file: $S/admin.token }
EOF
    # gateway A terminates remote access; clients dial the selected uplink's address
    [ $g = a ] && cat >>"$S/gw$g/edgedns.yaml" <<EOF
wireguard:
  interface: $WG_GW
  address: [10.44.0.1/24]
  private-key-file: $S/gwa/wg.key
  endpoint: 10.201.0.2
  endpoints: { wan-a: 10.201.0.2, wan-b: 10.202.0.2 }
  state-file: $S/gwa/wireguard.json
EOF
    cat >"$S/gw$g/kea4.json" <<EOF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": ["lan0"], "dhcp-socket-type": "raw" },
  "control-socket": { "socket-type": "unix", "socket-name": "$S/gw$g/kea4.sock" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$S/gw$g/leases4.csv", "lfc-interval": 5 },
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 256 },
  "valid-lifetime": 60, "renew-timer": 20, "rebind-timer": 40,
  "subnet4": [{ "id": 1, "subnet": "10.203.0.0/23", "pools": [{ "pool": "10.203.0.100 - 10.203.1.250" }],
    "option-data": [{ "name": "routers", "data": "10.203.0.1" }, { "name": "domain-name-servers", "data": "10.203.0.1" }, { "name": "domain-name", "data": "lan.test" }] }],
$(kea_hooks gw$g 8001)
  "loggers": [{ "name": "kea-dhcp4", "output_options": [{ "output": "stdout" }], "severity": "INFO" }]
} }
EOF
    cat >"$S/gw$g/kea6.json" <<EOF
{ "Dhcp6": {
  "data-directory": "$S/gw$g",
  "interfaces-config": { "interfaces": ["lan0"] },
  "control-socket": { "socket-type": "unix", "socket-name": "$S/gw$g/kea6.sock" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$S/gw$g/leases6.csv", "lfc-interval": 5 },
  "preferred-lifetime": 50, "valid-lifetime": 60, "renew-timer": 20, "rebind-timer": 40,
  "subnet6": [{ "id": 1, "subnet": "fd03:203::/64", "interface": "lan0", "pools": [{ "pool": "fd03:203::100 - fd03:203::1ff" }],
    "option-data": [{ "name": "dns-servers", "data": "fd03:203::2, fd03:203::3" }, { "name": "domain-search", "data": "lan.test" }] }],
$(kea_hooks gw$g 8002)
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 256 },
  "loggers": [{ "name": "kea-dhcp6", "output_options": [{ "output": "stdout" }], "severity": "INFO" }]
} }
EOF
    # keepalived calls edgedns ha set; both start as BACKUP with nopreempt, so a gateway coming
    # back does not take the address again (no flap); the higher priority wins the first election
    cat >"$S/gw$g/keepalived.conf" <<EOF
global_defs {
  router_id gw$g
  enable_script_security
  script_user root
}
vrrp_instance LAN {
  state BACKUP
  nopreempt
  interface lan0
  virtual_router_id 51
  priority $prio
  advert_int 1
  unicast_src_ip 10.203.0.$n
  unicast_peer { 10.203.0.$on }
  virtual_ipaddress { 10.203.0.1/23 dev lan0 }
  notify_master "$S/gw$g/notify.sh master"
  notify_backup "$S/gw$g/notify.sh backup"
  notify_fault "$S/gw$g/notify.sh fault"
  notify_stop "$S/gw$g/notify.sh backup"
}
EOF
    cat >"$S/gw$g/notify.sh" <<EOF
#!/bin/sh
exec $NODE $REPO/bin/edgedns.js ha set "\$1" --state-file $S/gw$g/ha.state >>$S/gw$g/notify.log 2>&1
EOF
    chmod 755 "$S/gw$g/notify.sh"
  done
  # the LAN clients' udhcpc script: the address, and the default route through the VRRP address
  cat >"$S/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface" ;;
esac
exit 0
EOF
  chmod 755 "$S/udhcpc.script"
  # dhclient -6's: nothing to do (the address is its own business; Debian's script would rewrite
  # /etc/resolv.conf, which every namespace shares), and the name it sends in the FQDN option
  printf '#!/bin/sh\nexit 0\n' >"$S/dhclient.script"; chmod 755 "$S/dhclient.script"
  printf 'send fqdn.fqdn "c1";\nsend fqdn.server-update on;\n' >"$S/dhclient6-c1.conf"
}

start_one() {
  case "$1:$2" in
    edgedns:a|edgedns:b) run_bg "edgedns-$2" "$(NS gw$2)" "$NODE" --max-semi-space-size=4 "$REPO/bin/edgedns.js" serve -c "$S/gw$2/edgedns.yaml" ;;
    kea:a|kea:b) KEA_PIDFILE_DIR=$S/gw$2 KEA_LOCKFILE_DIR=$S/gw$2 run_bg "kea-$2" "$(NS gw$2)" kea-dhcp4 -c "$S/gw$2/kea4.json" ;;
    kea6:a|kea6:b) KEA_PIDFILE_DIR=$S/gw$2 KEA_LOCKFILE_DIR=$S/gw$2 run_bg "kea6-$2" "$(NS gw$2)" kea-dhcp6 -c "$S/gw$2/kea6.json" ;;
    dhclient6:c1) run_bg dhclient6-c1 "$(NS c1)" dhclient -6 -d -cf "$S/dhclient6-c1.conf" -lf "$S/dhclient6-c1.leases" \
        -pf "$S/dhclient6-c1.pid" -sf "$S/dhclient.script" eth0 ;;
    keepalived:a|keepalived:b) run_bg "keepalived-$2" "$(NS gw$2)" keepalived -n -l -D -f "$S/gw$2/keepalived.conf" \
        -p "$S/gw$2/keepalived.pid" -r "$S/gw$2/vrrp.pid" -c "$S/gw$2/checkers.pid" ;;
    udhcpc:c1|udhcpc:c2) run_bg "udhcpc-$2" "$(NS $2)" busybox udhcpc -f -R -t 5 -T 1 -i eth0 -x "hostname:$2" -s "$S/udhcpc.script" ;;
    *) echo "unknown: $1 $2" >&2; exit 2 ;;
  esac
}

case "$CMD" in
up)
  mkdir -p "$PIDS"
  for n in isp1 isp2 mdm rmt gwa gwb lan c1 c2 load; do ip netns add "$(NS $n)"; ip -n "$(NS $n)" link set lo up; done
  # no duplicate-address detection on the LAN: kea-dhcp6 binds the link-local address at start,
  # and dhclient -6 needs one, neither of which waits for a tentative address
  for n in gwa gwb c1 c2 load; do for k in all default; do ip netns exec "$(NS $n)" sysctl -qw "net.ipv6.conf.$k.accept_dad=0"; done; done
  ip -n "$(NS lan)" link add br0 type bridge; ip -n "$(NS lan)" link set br0 up
  ip -n "$(NS mdm)" link add br0 type bridge; ip -n "$(NS mdm)" link set br0 up
  for i in 1 2; do
    isp=$(NS isp$i)
    ip -n "$isp" link add wanbr type bridge; ip -n "$isp" addr add "10.20$i.0.1/24" dev wanbr; ip -n "$isp" link set wanbr up
    ip -n "$isp" addr add 10.250.0.53/32 dev lo; ip -n "$isp" addr add 10.250.0.7/32 dev lo
    ip netns exec "$isp" sysctl -qw net.ipv4.ip_forward=1
    for g in a b; do
      if [ $i = 1 ] && [ $g = a ]; then   # through the modem
        ip -n "$(NS gwa)" link add wan1 type veth peer name g netns "$(NS mdm)"
        ip -n "$(NS mdm)" link add i type veth peer name gwa netns "$isp"
        for d in g i; do ip -n "$(NS mdm)" link set "$d" txqueuelen 1000 master br0 up; done
      else
        ip -n "$(NS gw$g)" link add "wan$i" type veth peer name "gw$g" netns "$isp"
      fi
      ip -n "$isp" link set "gw$g" master wanbr up
      ip -n "$(NS gw$g)" addr add "10.20$i.0.$(gw_addr $g)/24" dev "wan$i"; ip -n "$(NS gw$g)" link set "wan$i" up
    done
  done
  ip -n "$(NS isp1)" link add x2 type veth peer name x1 netns "$(NS isp2)"
  ip -n "$(NS isp1)" addr add 10.249.0.1/30 dev x2; ip -n "$(NS isp1)" link set x2 up
  ip -n "$(NS isp2)" addr add 10.249.0.2/30 dev x1; ip -n "$(NS isp2)" link set x1 up
  ip -n "$(NS isp1)" route add 10.202.0.0/24 via 10.249.0.2
  ip -n "$(NS isp2)" route add 10.211.0.0/24 via 10.249.0.1
  ip -n "$(NS isp1)" link add rmt type veth peer name eth0 netns "$(NS rmt)"
  ip -n "$(NS isp1)" addr add 10.211.0.1/24 dev rmt; ip -n "$(NS isp1)" link set rmt up
  ip -n "$(NS rmt)" addr add 10.211.0.2/24 dev eth0; ip -n "$(NS rmt)" link set eth0 up
  ip -n "$(NS rmt)" route add default via 10.211.0.1
  for g in a b; do
    ip -n "$(NS gw$g)" link add lan0 type veth peer name "gw$g" netns "$(NS lan)"
    ip -n "$(NS lan)" link set "gw$g" master br0 up
    ip -n "$(NS gw$g)" addr add "10.203.0.$(gw_addr $g)/23" dev lan0; ip -n "$(NS gw$g)" link set lan0 up
    ip -n "$(NS gw$g)" -6 addr add "fd03:203::$(gw_addr $g)/64" dev lan0 nodad
    ip netns exec "$(NS gw$g)" sysctl -qw net.ipv4.ip_forward=1
  done
  for c in c1 c2 load; do
    ip -n "$(NS $c)" link add eth0 type veth peer name "$c" netns "$(NS lan)"
    ip -n "$(NS lan)" link set "$c" master br0 up
    ip -n "$(NS $c)" link set eth0 up
  done
  ip -n "$(NS load)" addr add 10.203.0.90/23 dev eth0
  ip -n "$(NS load)" route add default via 10.203.0.1
  write_configs
  # one local CA: the gateways' DoH certificate (the LAN addresses) and the ISPs' DoT one
  "$NODE" "$REPO/bin/edgedns.js" cert init --dir "$S/certs" --name dns.isp.test --name gw.lan.test \
    --ip 10.203.0.1 --ip 10.203.0.2 --ip 10.203.0.3 --ip 10.250.0.53 >/dev/null 2>&1
  for i in 1 2; do
    label=$([ $i = 1 ] && echo isp-a || echo isp-b)
    mkdir -p "$S/isp$i"
    cat >"$S/isp$i/unbound.conf" <<EOF
server:
  verbosity: 1
  num-threads: 1
  do-daemonize: no
  use-syslog: no
  logfile: ""
  username: ""
  chroot: ""
  directory: "$S/isp$i"
  pidfile: "$S/isp$i/unbound.pid"
  do-ip6: no
  interface: 10.250.0.53
  interface: 10.250.0.53@853
  tls-port: 853
  tls-service-key: "$S/certs/server.key"
  tls-service-pem: "$S/certs/server.pem"
  access-control: 0.0.0.0/0 allow
  module-config: "iterator"
  local-zone: "test." nodefault
  local-zone: "whoami.test." static
  local-data: 'whoami.test. 0 IN TXT "$label"'
  local-zone: "example." static
  local-data: 'www.example. 300 IN A 10.250.0.7'
remote-control:
  control-enable: no
EOF
    run_bg "unbound-$i" "$(NS isp$i)" unbound -d -c "$S/isp$i/unbound.conf"
    run_bg "echo-$i" "$(NS isp$i)" "$NODE" "$REPO/test/fixtures/flow-echo.mjs" "$label" 10.250.0.7 7007
  done
  for g in a b; do start_one kea $g; start_one kea6 $g; done
  # WireGuard on A: its key, one remote peer, and the tunnel's wireguard-go (as a system service
  # would start it; edgedns configures what it finds); the remote loads the config add-peer printed
  "$NODE" "$REPO/bin/edgedns.js" wg init -c "$S/gwa/edgedns.yaml" >/dev/null 2>&1
  "$NODE" "$REPO/bin/edgedns.js" wg add-peer remote -c "$S/gwa/edgedns.yaml" >"$S/rmt.conf" 2>/dev/null
  chmod 600 "$S/rmt.conf"
  start_wg wg-a "$(NS gwa)" "$WG_GW"
  start_wg wg-rmt "$(NS rmt)" "$WG_RMT"
  wg-quick strip "$S/rmt.conf" >"$S/rmt.stripped"; chmod 600 "$S/rmt.stripped"
  ip netns exec "$(NS rmt)" wg setconf "$WG_RMT" "$S/rmt.stripped"
  ip -n "$(NS rmt)" addr add "$(sed -n 's/^Address = \([^,]*\).*/\1/p' "$S/rmt.conf")" dev "$WG_RMT"
  ip -n "$(NS rmt)" link set "$WG_RMT" mtu 1420 up
  for r in 10.44.0.0/24 10.203.0.0/23; do ip -n "$(NS rmt)" route add "$r" dev "$WG_RMT"; done
  for g in a b; do start_one edgedns $g; done
  start_one keepalived a
  sleep 1.5   # a first: it wins the first election without waiting for b's advertisements
  start_one keepalived b
  for c in c1 c2; do start_one udhcpc $c; done
  start_one dhclient6 c1
  echo "lab $P up; state in $S"
  ;;
start) mkdir -p "$PIDS"; start_one "$ROLE" "$GW" ;;
modem)
  for d in g i; do
    if [ "$RATE" = off ]; then ip netns exec "$(NS mdm)" tc qdisc del dev "$d" root 2>/dev/null || true
    else ip netns exec "$(NS mdm)" tc qdisc replace dev "$d" root tbf rate "$RATE" burst 32kb latency 400ms; fi
  done
  ;;
stop) case "$ROLE" in udhcpc) stop_pid "udhcpc-$GW" ;; dhclient6) stop_pid "dhclient6-$GW" ;; *) stop_pid "$ROLE-$GW" ;; esac ;;
status)
  for f in "$PIDS"/*.pid; do [ -f "$f" ] || continue; n=$(basename "$f" .pid); pid=$(cat "$f"); \
    if kill -0 "$pid" 2>/dev/null; then echo "$n running ($pid)"; else echo "$n stopped"; fi; done
  for g in a b; do
    echo "gw$g: $(cat "$S/gw$g/ha.state" 2>/dev/null || echo 'no ha state')"
    ip -n "$(NS gw$g)" -4 -o addr show dev lan0 2>/dev/null | awk '{print "  " $4}'
  done
  for c in c1 c2; do echo "$c: $(ip -n "$(NS $c)" -o addr show dev eth0 scope global 2>/dev/null | awk '{print $4}' | tr '\n' ' ')"; done
  ;;
down)
  for f in "$PIDS"/udhcpc-*.pid "$PIDS"/dhclient6-*.pid "$PIDS"/keepalived-*.pid "$PIDS"/edgedns-*.pid "$PIDS"/*.pid; do
    [ -f "$f" ] && stop_pid "$(basename "$f" .pid)"
  done
  for n in c1 c2 load lan gwa gwb rmt mdm isp1 isp2; do ip netns del "$(NS $n)" 2>/dev/null || true; done
  rm -f "/var/run/wireguard/$WG_GW.sock" "/var/run/wireguard/$WG_RMT.sock"
  ;;
*) echo "usage: $0 up|down|status PREFIX [STATE]" >&2; exit 2 ;;
esac
