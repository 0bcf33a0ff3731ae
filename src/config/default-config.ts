/** The embedded default (CONFIG.md "The embedded default"): safe on any machine, loopback only. */
export const EMBEDDED_SOURCE = '<embedded default>';

export const EMBEDDED_CONFIG = `
listen:
  - address: 127.0.0.1
    port: 5353
    protocols: [udp, tcp]
zone:
  domain: home.arpa
  records:
    - { name: gw, type: A, value: 127.0.0.1 }
cache:
  size: 64MB
upstreams:
  - name: quad9
    url: tls://9.9.9.9:853
    tls-name: dns.quad9.net
  - name: cloudflare
    url: https://cloudflare-dns.com/dns-query
    bootstrap: [1.1.1.1, 1.0.0.1]
admin:
  http: 127.0.0.1:9153
`;

/** Used when a file has no \`upstreams\`: the same public resolvers as the embedded default. */
export const DEFAULT_UPSTREAMS = [
  { name: 'quad9', url: 'tls://9.9.9.9:853', 'tls-name': 'dns.quad9.net' },
  { name: 'cloudflare', url: 'https://cloudflare-dns.com/dns-query', bootstrap: ['1.1.1.1', '1.0.0.1'] },
];
